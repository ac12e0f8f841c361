using BenchmarkDotNet.Running;
using MediaServer.Benchmarks.Fuzzing;

namespace MediaServer.Benchmarks;

/// <summary>
/// The command line: <c>[verb] [arguments]</c>. A first argument naming a verb selects it and the rest are its
/// arguments; anything else runs the BenchmarkDotNet switcher with all arguments (e.g. <c>--filter '*Remux*'</c>).
/// </summary>
internal static class Verbs
{
    /// <summary>The verbs, by name: each takes the arguments after its name and returns the exit code.</summary>
    private static readonly Dictionary<string, Func<string[], int>> s_verbs = new(StringComparer.Ordinal)
    {
        ["bench"] = RunBenchmarks,
        ["load"] = Load.LoadRunner.Run,
        ["fuzz"] = FuzzVerb.Run,
        ["latency"] = Latency.LatencyRunner.Run,
    };

    public static int Run(string[] args)
    {
        if (args.Length > 0 && s_verbs.TryGetValue(args[0], out var verb))
        {
            return verb(args[1..]);
        }

        return RunBenchmarks(args);
    }

    /// <summary>BenchmarkDotNet micro-benchmarks of the hot path (the default verb).</summary>
    private static int RunBenchmarks(string[] args)
    {
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Verbs).Assembly).Run(args);
        return summaries.Any(static s => s.HasCriticalValidationErrors || s.Reports.Any(static r => !r.Success)) ? 1 : 0;
    }
}
