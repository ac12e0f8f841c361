using System.Diagnostics;
using System.Globalization;

namespace MediaServer.Benchmarks.Load;

/// <summary>One reading of a process: CPU time (user + system) and resident set size.</summary>
internal readonly record struct ProcessSample(double Seconds, double CpuMilliseconds, long RssBytes);

/// <summary>
/// Samples a process through /proc: <c>/proc/PID/stat</c> fields 14 and 15 (utime, stime, in clock ticks of
/// 1/100 s, USER_HZ on Linux) and <c>VmRSS</c> of <c>/proc/PID/status</c>.
/// </summary>
internal sealed class ProcessSampler(int pid)
{
    private const double MillisecondsPerTick = 10; // USER_HZ = 100
    private readonly long _start = Stopwatch.GetTimestamp();

    public List<ProcessSample> Samples { get; } = [];

    public ProcessSample Read()
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // Fields after the command name, which is in parentheses and may contain spaces.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        long rss = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) * 1024;
                break;
            }
        }

        return new ProcessSample(Stopwatch.GetElapsedTime(_start).TotalSeconds, ticks * MillisecondsPerTick, rss);
    }

    /// <summary>Samples every <paramref name="interval"/> until cancelled.</summary>
    public async Task RunAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            do
            {
                var sample = Read();
                lock (Samples)
                {
                    Samples.Add(sample);
                }
            }
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
        }
    }
}
