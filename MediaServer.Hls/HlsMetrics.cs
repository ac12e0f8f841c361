using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace MediaServer.Hls;

/// <summary>
/// The HLS instruments, on the server's one meter (<see cref="MeterName"/>), exported by the host at <c>/metrics</c>.
/// Labels are bounded: the container and the kind of answer, never a stream key or a remote address.
/// </summary>
public sealed class HlsMetrics
{
    /// <summary>The name of the server's meter; every layer creates its instruments on it.</summary>
    public const string MeterName = "MediaServer";

    private static readonly KeyValuePair<string, object?> s_ts = new("container", "ts");
    private static readonly KeyValuePair<string, object?> s_fmp4 = new("container", "fmp4");
    private static readonly KeyValuePair<string, object?> s_playlist = new("kind", "playlist");
    private static readonly KeyValuePair<string, object?> s_part = new("kind", "part");

    private readonly Histogram<double> _listed;
    private readonly Histogram<double> _blocked;

    public HlsMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _listed = meter.CreateHistogram(
            "hls.frame_listed_seconds",
            "s",
            "From a lead-track frame's arrival to the playlist listing it (in a part with LL-HLS, else in a segment).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = ListedBuckets });
        _blocked = meter.CreateHistogram(
            "hls.blocked_answer_seconds",
            "s",
            "From the part a blocked request waited for being listed to its answer handed to the transport.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = BlockedBuckets });
    }

    /// <summary>Bucket bounds of the listing delay, seconds: a part's own duration plus a frame, up to a segment.</summary>
    public static IReadOnlyList<double> ListedBuckets { get; } =
        [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 3, 4, 6, 10];

    /// <summary>Bucket bounds of the blocked-answer delay, seconds (the LL-HLS target is an answer within 50 ms).</summary>
    public static IReadOnlyList<double> BlockedBuckets { get; } =
        [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

    /// <summary>A frame that arrived at <paramref name="arrivedAt"/> (<see cref="Stopwatch"/> ticks) is listed now.</summary>
    public void FrameListed(HlsContainer container, long arrivedAt, long now)
    {
        if (_listed.Enabled)
        {
            _listed.Record(Stopwatch.GetElapsedTime(arrivedAt, now).TotalSeconds, container == HlsContainer.Fmp4 ? s_fmp4 : s_ts);
        }
    }

    /// <summary>A blocked playlist (or hinted part) request was answered; what it waited for was listed at <paramref name="readyAt"/>.</summary>
    public void BlockedAnswered(bool part, long readyAt)
    {
        if (_blocked.Enabled)
        {
            _blocked.Record(Stopwatch.GetElapsedTime(readyAt).TotalSeconds, part ? s_part : s_playlist);
        }
    }
}
