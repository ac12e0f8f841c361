using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;

namespace MediaServer.Benchmarks.Infrastructure;

/// <summary>
/// Columns every benchmark class shows: the median (the machine may be shared) and media throughput. The job
/// is left to the command line: the default full run, or <c>--job short</c> for a quick look.
/// </summary>
public sealed class MediaBenchmarkConfig : ManualConfig
{
    public MediaBenchmarkConfig()
    {
        AddColumn(StatisticColumn.Median);
        AddColumn(ThroughputColumn.MegabytesPerSecond, ThroughputColumn.FramesPerSecond);
    }
}
