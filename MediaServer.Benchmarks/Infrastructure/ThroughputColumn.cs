using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace MediaServer.Benchmarks.Infrastructure;

/// <summary>
/// Throughput of media from the median time per operation: MB/s (10^6 bytes of FLV tag bodies, i.e. media as
/// the publisher sent it, whatever the stage's own framing) or frames/s (tags or messages). What an operation
/// carries is declared with <see cref="MediaThroughputAttribute"/>; benchmarks without one show "-".
/// </summary>
public sealed class ThroughputColumn : IColumn
{
    public static readonly IColumn MegabytesPerSecond = new ThroughputColumn(frames: false);

    public static readonly IColumn FramesPerSecond = new ThroughputColumn(frames: true);

    private static readonly ConcurrentDictionary<MediaInput, (long Bytes, long Frames)> s_sizes = new();

    private readonly bool _frames;

    private ThroughputColumn(bool frames)
    {
        _frames = frames;
    }

    public string Id => _frames ? "MediaThroughput.Frames" : "MediaThroughput.MB";

    public string ColumnName => _frames ? "Frames/s" : "MB/s";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => _frames ? 1 : 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => _frames
        ? "Frames (FLV tags, RTMP messages; AMF0 rows: bodies) carried per second, from the median"
        : "10^6 bytes of media carried per second, from the median: FLV tag bodies (AMF0 rows: the AMF0 body)";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var median = summary[benchmarkCase]?.ResultStatistics?.Median;
        var input = GetInput(benchmarkCase);
        if (median is not > 0 || input is null)
        {
            return "-";
        }

        var (bytes, frames) = s_sizes.GetOrAdd(input.Value, MediaThroughputAttribute.Measure);
        var perSecond = (_frames ? frames : bytes) / (median.Value / 1e9);
        return _frames
            ? perSecond.ToString("N0", CultureInfo.InvariantCulture)
            : (perSecond / 1e6).ToString("N1", CultureInfo.InvariantCulture);
    }

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) => true;

    public override string ToString() => ColumnName;

    private static MediaInput? GetInput(BenchmarkCase benchmarkCase)
    {
        var method = benchmarkCase.Descriptor.WorkloadMethod;
        var attribute = method.GetCustomAttribute<MediaThroughputAttribute>()
            ?? benchmarkCase.Descriptor.Type.GetCustomAttribute<MediaThroughputAttribute>(inherit: true);
        return attribute?.Input;
    }
}
