namespace MediaServer.Hls.Segmenting;

/// <summary>Why the segmenter should close the current segment before the frame in hand.</summary>
public enum SegmentCut : byte
{
    /// <summary>Keep appending.</summary>
    None = 0,

    /// <summary>The segment is long enough and this frame may start the next one (video keyframe, or any
    /// audio frame of an audio-only stream).</summary>
    Duration = 1,

    /// <summary>The segment reached <see cref="HlsOptions.MaxSegmentBytes"/>: cut here even without a
    /// keyframe (a safety cap; the next segment may not be decodable on its own).</summary>
    Size = 2,

    /// <summary>No keyframe came in time: with this frame the segment would round past the target duration,
    /// so it is cut before it and the next segment starts between keyframes (not independent).</summary>
    Split = 3,
}

/// <summary>What the policy needs to know of a frame to decide a cut before it.</summary>
/// <param name="VideoLed">The stream has video (cuts on video frames).</param>
/// <param name="IsVideo">The frame is a video frame.</param>
/// <param name="IsKeyframe">The frame is a video keyframe.</param>
/// <param name="PresentsAfterSegment">Its PTS is after every lead-track PTS in the segment (a reference frame, not a
/// B-frame): a split before it leaves no overlap of presentation times between the two segments.</param>
/// <param name="FrameMs">About how long the frame lasts (its track's last DTS step).</param>
public readonly record struct CutCandidate(bool VideoLed, bool IsVideo, bool IsKeyframe, bool PresentsAfterSegment, long FrameMs);

/// <summary>
/// Decides where segments are cut and fixes EXT-X-TARGETDURATION; it never touches bytes (the SRS
/// <c>SrsHlsController</c> / gohlslib <c>muxer_segmenter</c> half of the split).
/// </summary>
/// <remarks>
/// <para><b>Cut points.</b> With video, a segment is cut at the first video keyframe at which it is at least
/// <see cref="HlsOptions.SegmentDuration"/> long, so every segment starts with a keyframe and holds whole
/// GOPs. Audio-only streams are cut at the first audio frame at which the segment is that long.</para>
/// <para><b>Target duration.</b> RFC 8216 §4.3.3.1 requires every EXTINF, rounded to the nearest integer, to be
/// ≤ EXT-X-TARGETDURATION, and the target must not change while the playlist lives. We cannot know the
/// encoder's keyframe interval up front, so the target is fixed before any playlist is published, when the
/// first segment closes at a cut point of this policy (at a keyframe once long enough, i.e. having seen at
/// least the second keyframe). Segments closed earlier by a break (publisher change, new parameters) are held
/// back meanwhile — at most 3, or until the stream ends — and the longest of them counts:
/// <c>target = max(ceil(SegmentDuration), ceil(longest + 250 ms − 0.5 s))</c>, i.e. the smallest integer
/// that still holds that segment with 250 ms of keyframe jitter to spare. A 2 s setting with a 2 s GOP
/// gives 2; with a 4 s GOP (a common OBS default) 4; with a 2.45 s GOP 3.</para>
/// <para><b>Holding back.</b> Closed segments go through <see cref="Add"/>: while the target is not fixed they are
/// held (at most <see cref="MaxHeldBackSegments"/>), then released in order through <see cref="TryTakeReady"/>.</para>
/// <para><b>Parts</b> (LL-HLS): with a part target, a part ends before the lead-track frame that would take it past
/// the target (<see cref="EndsPart"/>), so every part but a segment's last lasts at most the target and, with
/// frames shorter than 15 % of it, at least 85 % of it.</para>
/// <para><b>A GOP longer than the target.</b> RFC 8216 §4.3.3.1 (EXTINF rounded ≤ target) and §6.2.1 (the target
/// never changes) leave one way: cut inside the GOP. When the next lead-track frame would take the segment to
/// <c>target + 0.5 s</c> (where its EXTINF would round above the target), the segment is cut before it
/// (<see cref="SegmentCut.Split"/>), as late as the rule allows so that a keyframe still has every chance to
/// come first. The piece that follows does not start with a keyframe: it is legal HLS as long as no playlist
/// claims EXT-X-INDEPENDENT-SEGMENTS, and a player joining there starts at the next keyframe. The same rule
/// cuts parts inside a GOP for low-latency HLS. Before the target is fixed, the limit is
/// <see cref="MaximumTargetDuration"/>: the first GOP fixes the target only up to it. The segmenter reports
/// splits as the <c>hls.keyframe-interval</c> diagnostic: the cure is on the encoder (keyframe interval ≤
/// segment duration).</para>
/// </remarks>
public sealed class SegmentationPolicy
{
    /// <summary>Keyframe jitter tolerated over the first segment when fixing the target duration.</summary>
    public const long TargetJitterMarginMs = 250;

    /// <summary>Segments closed by breaks held back, at most, before the target duration is fixed anyway
    /// (a publisher reconnecting in a loop must not keep the playlist unpublished).</summary>
    public const int MaxHeldBackSegments = 3;

    private readonly long _segmentDurationMs;
    private readonly long _maxSegmentBytes;
    private readonly List<ClosedSegment> _heldBack = [];
    private readonly Queue<ClosedSegment> _ready = new();

    public SegmentationPolicy(HlsOptions options)
        : this(options.SegmentDuration, options.MaxSegmentBytes, options.PartDuration)
    {
    }

    /// <param name="segmentDuration">The shortest segment cut at a keyframe (<see cref="HlsOptions.SegmentDuration"/>).</param>
    /// <param name="maxSegmentBytes">The size cap (<see cref="HlsOptions.MaxSegmentBytes"/>).</param>
    /// <param name="partTarget">The LL-HLS part target; null or zero: no parts.</param>
    public SegmentationPolicy(TimeSpan segmentDuration, long maxSegmentBytes, TimeSpan? partTarget = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(segmentDuration, TimeSpan.FromMilliseconds(1));
        _segmentDurationMs = (long)segmentDuration.TotalMilliseconds;
        _maxSegmentBytes = maxSegmentBytes;
        MinimumTargetDuration = (int)((_segmentDurationMs + 999) / 1000);
        MaximumTargetDuration = Math.Max(MinimumTargetDuration * 2, 6);
        PartTargetMs = partTarget is { } part ? Math.Max(0, (long)part.TotalMilliseconds) : 0;
    }

    /// <summary>The part target in milliseconds, or 0 when the stream has no parts.</summary>
    public long PartTargetMs { get; }

    /// <summary>Closed segments not handed out yet (held back, or ready).</summary>
    public int Pending => _heldBack.Count + _ready.Count;

    /// <summary>ceil(SegmentDuration) in seconds: the smallest target this policy ever fixes.</summary>
    public int MinimumTargetDuration { get; }

    /// <summary>The largest target the first GOP may fix: twice ceil(SegmentDuration), at least 6 s (Apple's
    /// recommended target). A 4 s GOP with 2 s segments still gets whole-GOP segments (target 4); a 10 s one is split.</summary>
    public int MaximumTargetDuration { get; }

    /// <summary>EXT-X-TARGETDURATION, or 0 until <see cref="FixTargetDuration"/> is called; then constant.</summary>
    public int TargetDuration { get; private set; }

    /// <summary>Whether to close the current segment before <paramref name="frame"/>.</summary>
    /// <param name="frame">The frame in hand.</param>
    /// <param name="elapsedMs">The frame's DTS minus the current segment's first DTS.</param>
    /// <param name="segmentBytes">Bytes in the current segment so far.</param>
    /// <param name="segmentIndependent">The current segment starts with a keyframe. One that does not (it follows a
    /// split) ends at the next keyframe however short, so that the stream is independent again at once.</param>
    public SegmentCut Decide(in CutCandidate frame, long elapsedMs, long segmentBytes, bool segmentIndependent = true)
    {
        if (segmentBytes >= _maxSegmentBytes)
        {
            return SegmentCut.Size;
        }

        var leads = frame.VideoLed ? frame.IsVideo : !frame.IsVideo;
        if (!leads || elapsedMs <= 0)
        {
            return SegmentCut.None;
        }

        if ((frame.IsKeyframe || !frame.VideoLed) && (elapsedMs >= _segmentDurationMs || !segmentIndependent))
        {
            return SegmentCut.Duration;
        }

        // Split: at the limit at the latest; a little before it where the frame presents after everything in the
        // segment (a P frame, not a B frame), so the two segments' presentation times do not overlap.
        var limit = SplitLimitMs;
        var latest = elapsedMs + frame.FrameMs >= limit;
        var clean = frame.PresentsAfterSegment && elapsedMs + (SplitLookaheadFrames * frame.FrameMs) >= limit;
        return latest || clean ? SegmentCut.Split : SegmentCut.None;
    }

    /// <summary>How many frames before the split limit a split may come, to find a frame that presents after the
    /// segment (with up to three B-frames in a row, one of the last four is such a frame).</summary>
    public const int SplitLookaheadFrames = 4;

    /// <summary>The segment length (ms) at which EXTINF would round above the target (or, before it is fixed,
    /// above <see cref="MaximumTargetDuration"/>).</summary>
    public long SplitLimitMs => ((TargetDuration != 0 ? TargetDuration : MaximumTargetDuration) * 1000L) + 500;

    /// <summary>
    /// Fixes the target duration from the first closed segment (see remarks); later calls return the value
    /// fixed by the first one.
    /// </summary>
    public int FixTargetDuration(long firstSegmentMs)
    {
        if (TargetDuration == 0)
        {
            // ceil((first + margin − 500) / 1000), for non-negative numerators.
            var observed = Math.Max(0, firstSegmentMs + TargetJitterMarginMs - 500);
            var fromFirst = (int)Math.Min(MaximumTargetDuration, (observed + 999) / 1000);
            TargetDuration = Math.Max(MinimumTargetDuration, fromFirst);
        }

        return TargetDuration;
    }

    /// <summary>
    /// Whether the part being built (started at <paramref name="partStartDts"/>) ends before a lead-track frame at
    /// <paramref name="dts"/> lasting about <paramref name="frameMs"/>: when including it would take the part past
    /// the part target.
    /// </summary>
    public bool EndsPart(long partStartDts, long dts, long frameMs) =>
        PartTargetMs > 0 && dts > partStartDts && dts + frameMs - partStartDts > PartTargetMs;

    /// <summary>
    /// Takes a closed segment. Once the target is fixed it is ready at once; before, it is held back until one closes
    /// at a cut point of this policy (<paramref name="atCutPoint"/>: it shows the keyframe interval) or
    /// <see cref="MaxHeldBackSegments"/> are waiting, then the target is fixed from the longest and all are ready.
    /// </summary>
    public void Add(in ClosedSegment segment, bool atCutPoint)
    {
        if (TargetDuration != 0)
        {
            _ready.Enqueue(segment);
            return;
        }

        _heldBack.Add(segment);
        if (atCutPoint || _heldBack.Count >= MaxHeldBackSegments)
        {
            ReleaseHeldBack();
        }
    }

    /// <summary>Fixes the target from the segments held back (the stream ends) and makes them ready.</summary>
    public void ReleaseHeldBack()
    {
        if (_heldBack.Count == 0)
        {
            return;
        }

        var longest = 0L;
        foreach (var held in _heldBack)
        {
            longest = Math.Max(longest, held.DurationMs);
        }

        FixTargetDuration(longest);
        foreach (var held in _heldBack)
        {
            _ready.Enqueue(held);
        }

        _heldBack.Clear();
    }

    /// <summary>The next segment to publish, in order; its buffer passes to the caller.</summary>
    public bool TryTakeReady(out ClosedSegment segment) => _ready.TryDequeue(out segment);

    /// <summary>Releases every segment not handed out yet (the output failed).</summary>
    public void Abandon()
    {
        foreach (var held in _heldBack)
        {
            held.Buffer.Release();
        }

        while (_ready.TryDequeue(out var ready))
        {
            ready.Buffer.Release();
        }

        _heldBack.Clear();
    }

    /// <summary>True when a segment of <paramref name="durationMs"/>, its EXTINF rounded to the nearest
    /// integer (RFC 8216 §4.3.3.1), is longer than the fixed target.</summary>
    public bool ExceedsTarget(long durationMs) => TargetDuration > 0 && RoundToSeconds(durationMs) > TargetDuration;

    /// <summary>Rounds milliseconds to the nearest whole second, halves up (how a player rounds EXTINF).</summary>
    public static long RoundToSeconds(long durationMs) => (durationMs + 500) / 1000;
}
