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
}

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
/// <para><b>A later GOP longer than that.</b> Segments cannot be cut between keyframes (they must start
/// with one and be decodable on their own), and the target must not change. So such a segment is published
/// with its true EXTINF (players rely on EXTINF for the timeline; a clamped value would desynchronise
/// them), and the policy reports it through <see cref="ExceedsTarget"/> so the segmenter records the
/// <c>keyframe-interval</c> diagnostic on the stream once and logs it once. The cure is on the encoder
/// (keyframe interval ≤ segment duration), and the diagnostic says so.</para>
/// </remarks>
public sealed class SegmentationPolicy
{
    /// <summary>Keyframe jitter tolerated over the first segment when fixing the target duration.</summary>
    public const long TargetJitterMarginMs = 250;

    private readonly long _segmentDurationMs;
    private readonly long _maxSegmentBytes;

    public SegmentationPolicy(HlsOptions options)
        : this(options.SegmentDuration, options.MaxSegmentBytes)
    {
    }

    public SegmentationPolicy(TimeSpan segmentDuration, long maxSegmentBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(segmentDuration, TimeSpan.FromMilliseconds(1));
        _segmentDurationMs = (long)segmentDuration.TotalMilliseconds;
        _maxSegmentBytes = maxSegmentBytes;
        MinimumTargetDuration = (int)((_segmentDurationMs + 999) / 1000);
    }

    /// <summary>ceil(SegmentDuration) in seconds: the smallest target this policy ever fixes.</summary>
    public int MinimumTargetDuration { get; }

    /// <summary>EXT-X-TARGETDURATION, or 0 until <see cref="FixTargetDuration"/> is called; then constant.</summary>
    public int TargetDuration { get; private set; }

    /// <summary>
    /// Whether to close the current segment before a frame.
    /// </summary>
    /// <param name="videoLed">The stream has video (cuts only on video keyframes).</param>
    /// <param name="isVideo">The frame is a video frame.</param>
    /// <param name="isKeyframe">The frame is a video keyframe.</param>
    /// <param name="elapsedMs">The frame's DTS minus the current segment's first DTS.</param>
    /// <param name="segmentBytes">Bytes in the current segment so far.</param>
    public SegmentCut Decide(bool videoLed, bool isVideo, bool isKeyframe, long elapsedMs, long segmentBytes)
    {
        if (segmentBytes >= _maxSegmentBytes)
        {
            return SegmentCut.Size;
        }

        if (elapsedMs < _segmentDurationMs)
        {
            return SegmentCut.None;
        }

        var startsSegment = videoLed ? isVideo && isKeyframe : !isVideo;
        return startsSegment ? SegmentCut.Duration : SegmentCut.None;
    }

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
            var fromFirst = (int)Math.Min(int.MaxValue, (observed + 999) / 1000);
            TargetDuration = Math.Max(MinimumTargetDuration, fromFirst);
        }

        return TargetDuration;
    }

    /// <summary>True when a segment of <paramref name="durationMs"/>, its EXTINF rounded to the nearest
    /// integer (RFC 8216 §4.3.3.1), is longer than the fixed target.</summary>
    public bool ExceedsTarget(long durationMs) => TargetDuration > 0 && RoundToSeconds(durationMs) > TargetDuration;

    /// <summary>Rounds milliseconds to the nearest whole second, halves up (how a player rounds EXTINF).</summary>
    public static long RoundToSeconds(long durationMs) => (durationMs + 500) / 1000;
}
