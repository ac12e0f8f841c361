using MediaServer.Fuzzing;
using SharpFuzz;

namespace MediaServer.Benchmarks.Fuzzing;

/// <summary>
/// <c>fuzz &lt;target&gt;</c>: runs a target under afl-fuzz through SharpFuzz (in-process persistent mode, or
/// <c>--out-of-process</c> so that a stack overflow is reported as a crash too).
/// <c>fuzz &lt;target&gt; --replay DIR|FILE</c>: runs files through the target without AFL and reports every
/// finding. <c>fuzz --list</c>: the targets. See docs/FUZZING.md and fuzz.sh.
/// </summary>
internal static class FuzzVerb
{
    /// <summary>afl-fuzz's own default maximum input (1 MiB); larger inputs are cut to it.</summary>
    private const int MaxInputLength = 1024 * 1024;

    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0] is "--list" or "-h" or "--help")
        {
            Console.WriteLine("usage: fuzz <target> [--out-of-process] | fuzz <target> --replay <dir|file>...");
            foreach (var t in FuzzTargets.All)
            {
                Console.WriteLine($"  {t.Name,-10} {t.Description}");
            }

            return args.Length == 0 ? 2 : 0;
        }

        var target = FuzzTargets.Find(args[0]);
        if (target is null)
        {
            Console.Error.WriteLine($"Unknown fuzz target '{args[0]}'; fuzz --list names them.");
            return 2;
        }

        var replay = Array.IndexOf(args, "--replay");
        if (replay >= 0)
        {
            return Replay(target, args[(replay + 1)..]);
        }

        if (Array.IndexOf(args, "--out-of-process") >= 0)
        {
            Fuzzer.OutOfProcess.Run(stream => target.Run(Read(stream)));
        }
        else
        {
            Fuzzer.Run(stream => target.Run(Read(stream)));
        }

        return 0;
    }

    private static byte[] Read(Stream stream)
    {
        using var copy = new MemoryStream();
        var buffer = new byte[64 * 1024];
        int read;
        while (copy.Length < MaxInputLength && (read = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, MaxInputLength - copy.Length))) > 0)
        {
            copy.Write(buffer, 0, read);
        }

        return copy.ToArray();
    }

    private static int Replay(FuzzTarget target, string[] paths)
    {
        var files = new List<string>();
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
            {
                files.AddRange(Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal));
            }
            else if (File.Exists(path))
            {
                files.Add(path);
            }
            else
            {
                Console.Error.WriteLine($"No such file or directory: {path}");
                return 2;
            }
        }

        var findings = 0;
        foreach (var file in files)
        {
            try
            {
                target.Run(File.ReadAllBytes(file));
            }
            catch (Exception ex)
            {
                findings++;
                Console.Error.WriteLine($"FINDING {file}: {ex}");
            }
        }

        Console.WriteLine($"{target.Name}: {files.Count} inputs replayed, {findings} findings.");
        return findings == 0 ? 0 : 1;
    }
}
