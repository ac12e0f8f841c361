using System.Diagnostics;
using System.Globalization;

namespace MediaServer.Benchmarks.Load;

/// <summary>One reading of a process: CPU time (user + system) and resident set size.</summary>
internal readonly record struct ProcessSample(double Seconds, double CpuMilliseconds, long RssBytes);

/// <summary>
/// Samples a process and its child processes through /proc: <c>/proc/PID/stat</c> fields 14 and 15 (utime, stime, in clock ticks of
/// 1/100 s, USER_HZ on Linux) and <c>VmRSS</c> of <c>/proc/PID/status</c>.
/// </summary>
internal sealed class ProcessSampler(int pid)
{
    private const double MillisecondsPerTick = 10; // USER_HZ = 100
    private readonly long _start = Stopwatch.GetTimestamp();

    public List<ProcessSample> Samples { get; } = [];

    /// <summary>The process plus its children (nginx: the master and its workers), summed.</summary>
    public ProcessSample Read()
    {
        var (ticks, rss) = ReadOne(pid);
        foreach (var child in Children())
        {
            try
            {
                var (t, r) = ReadOne(child);
                ticks += t;
                rss += r;
            }
            catch (IOException)
            {
                // It exited between the listing and the read.
            }
        }

        return new ProcessSample(Stopwatch.GetElapsedTime(_start).TotalSeconds, ticks * MillisecondsPerTick, rss);
    }

    // Processes whose parent is pid, from the ppid field of every /proc/N/stat.
    private List<int> Children()
    {
        var children = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var candidate) || candidate == pid)
            {
                continue;
            }

            try
            {
                if (StatFields(candidate)[1] == _pidText)
                {
                    children.Add(candidate);
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return children;
    }

    private readonly string _pidText = pid.ToString(CultureInfo.InvariantCulture);

    // Fields after the command name, which is in parentheses and may contain spaces: [0] state, [1] ppid, ...
    private static string[] StatFields(int id)
    {
        var stat = File.ReadAllText($"/proc/{id}/stat");
        return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
    }

    private static (long Ticks, long RssBytes) ReadOne(int id)
    {
        var fields = StatFields(id);
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        long rss = 0;
        foreach (var line in File.ReadLines($"/proc/{id}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) * 1024;
                break;
            }
        }

        return (ticks, rss);
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
