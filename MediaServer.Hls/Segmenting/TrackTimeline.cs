namespace MediaServer.Hls.Segmenting;

/// <summary>What a new decode timestamp is, next to the last one of its track.</summary>
public enum TimelineJump : byte
{
    /// <summary>Continuous (or the first of the track).</summary>
    None = 0,

    /// <summary>Back by more than <see cref="TrackTimeline.MaxBackwardJumpMs"/>.</summary>
    Backward = 1,

    /// <summary>Forward by more than <see cref="TrackTimeline.MaxForwardJumpMs"/>.</summary>
    Forward = 2,
}

/// <summary>
/// One track's decode timeline as the segmenter sees it: the last DTS, whether a new one jumps (a new timeline,
/// cut with a discontinuity), and the track's frame duration estimated from the last DTS step (for the length of a
/// segment cut at a break or the end, and for part budgets).
/// </summary>
public sealed class TrackTimeline
{
    /// <summary>A DTS going back further than this is a new timeline (small steps back are encoder jitter and are
    /// muxed as they are).</summary>
    public const long MaxBackwardJumpMs = 100;

    /// <summary>A DTS jumping forward further than this is a new timeline: no real gap (not even frames dropped to
    /// the next keyframe by a slow subscription) is that long.</summary>
    public const long MaxForwardJumpMs = 10_000;

    /// <summary>A DTS step above this is a gap, not a frame duration.</summary>
    public const long MaxFrameMs = 1000;

    /// <summary>Video frame duration until a DTS step is seen: ~30 fps.</summary>
    public const long DefaultVideoFrameMs = 33;

    /// <summary>Audio frame duration until a DTS step is seen: 1024 AAC samples at 44.1 kHz.</summary>
    public const long DefaultAudioFrameMs = 23;

    private long _lastDts = long.MinValue;

    public TrackTimeline(long defaultFrameMs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(defaultFrameMs, 1);
        FrameMs = defaultFrameMs;
    }

    /// <summary>The last DTS advanced to, or null at the start of a timeline.</summary>
    public long? LastDts => _lastDts == long.MinValue ? null : _lastDts;

    /// <summary>The frame duration: the last DTS step in (0, <see cref="MaxFrameMs"/>], kept across timelines.</summary>
    public long FrameMs { get; private set; }

    /// <summary>Whether <paramref name="dts"/> starts a new timeline (see <see cref="TimelineJump"/>).</summary>
    public TimelineJump Check(long dts) =>
        _lastDts == long.MinValue ? TimelineJump.None
        : dts < _lastDts - MaxBackwardJumpMs ? TimelineJump.Backward
        : dts > _lastDts + MaxForwardJumpMs ? TimelineJump.Forward
        : TimelineJump.None;

    /// <summary>A frame at <paramref name="dts"/> was segmented.</summary>
    public void Advance(long dts)
    {
        if (_lastDts != long.MinValue && dts - _lastDts is > 0 and <= MaxFrameMs)
        {
            FrameMs = dts - _lastDts;
        }

        _lastDts = dts;
    }

    /// <summary>A new timeline starts: the next DTS is not compared with the last one.</summary>
    public void Reset() => _lastDts = long.MinValue;
}
