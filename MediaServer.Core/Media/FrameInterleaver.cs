namespace MediaServer.Core.Media;

/// <summary>
/// Puts the audio and video frames of one stream back in decode-timestamp order when the encoder sends its
/// tracks out of step (audio a few hundred milliseconds ahead of the video it plays with is common), so a
/// consumer that cuts on video keyframes also cuts the audio at the same point in time.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Each track keeps its own order; across tracks, the frame with the smaller timestamp goes first (video
/// first on a tie, so audio at a keyframe's time lands after the cut; but an audio configuration before video media,
/// so the segment the keyframe opens knows its audio track: a publisher sends both sequence headers at the first
/// frame's time).</item>
/// <item>At the start, audio waits for video (an encoder's first audio often arrives before its first video, and
/// segments are cut on video keyframes); once both tracks were seen, or audio has queued <see cref="MaxDelayMs"/>
/// alone (an audio-only stream: from then on it passes through), ordering is as above. A track waits for the other only once a media
/// frame (not just a configuration) of the other has been seen. It waits at most <see cref="MaxDelayMs"/> of its own media (a track that stops does not hold the other
/// back for longer) and at most <see cref="MaxQueuedFrames"/> frames.</item>
/// <item>Video does not wait for audio that cannot be earlier: when the audio track is caught up (its newest frame plus
/// the shortest of its last four frame intervals, less <see cref="AudioJitterMs"/>, reaches the video frame), the
/// video frame leaves at once. In a steady stream a keyframe, and so the segment it closes, mostly goes out as it
/// arrives, not one audio frame later. Should the next audio frame come earlier after all (jitter beyond that), it
/// lands just after the cut: nothing is lost. A flush (new publisher, end) forgets the intervals.</item>
/// <item>Heads more than <see cref="MaxSkewMs"/> apart are not comparable (a timestamp jump on one track): they
/// leave in arrival order.</item>
/// </list>
/// Holds one payload reference per queued frame: <see cref="Add"/> takes one, and every frame handed out by
/// <see cref="TryTake"/> carries one the caller releases. Single-threaded.
/// </remarks>
public sealed class FrameInterleaver
{
    /// <summary>Frames queued at most, over both tracks, whatever the timestamps say.</summary>
    public const int MaxQueuedFrames = 2048;

    /// <summary>Heads further apart than this are on different timelines (a jump), not out of step.</summary>
    public const long MaxSkewMs = 10_000;

    /// <summary>Audio frame intervals above this are gaps, not a frame duration (AAC: 21-64 ms; MP3: 24-72 ms).</summary>
    public const long MaxAudioStepMs = 250;

    /// <summary>How much earlier than the shortest recent interval says the next audio frame may still come.</summary>
    public const long AudioJitterMs = 2;

    private readonly Queue<(MediaFrame Frame, long Order)> _audio = new();
    private readonly Queue<(MediaFrame Frame, long Order)> _video = new();
    private long _order;
    private long _newestAudio;
    private long _newestVideo;
    private long _lastAudio;
    private long _audioStep;   // the shortest of the last few audio intervals; 0 = unknown
    private ulong _audioSteps; // the last four intervals, 16 bits each (a 0 lane is unknown)
    private bool _sawAudio;
    private bool _sawVideo;
    private bool _started;

    /// <param name="maxDelayMs">How much of its own media a track may queue while it waits for the other.</param>
    public FrameInterleaver(long maxDelayMs)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxDelayMs);
        MaxDelayMs = maxDelayMs;
    }

    /// <summary>How much of its own media a track may queue while it waits for the other.</summary>
    public long MaxDelayMs { get; }

    /// <summary>Frames waiting.</summary>
    public int Count => _audio.Count + _video.Count;

    /// <summary>Queues an audio or video frame, taking a reference on its payload.</summary>
    public void Add(in MediaFrame frame)
    {
        if (!frame.IsAudio && !frame.IsVideo)
        {
            throw new ArgumentException("Only audio and video frames are interleaved.", nameof(frame));
        }

        frame.Payload.AddRef();
        if (frame.IsVideo)
        {
            _sawVideo |= !frame.IsConfig;
            _newestVideo = _video.Count == 0 ? frame.Timestamp : Math.Max(_newestVideo, frame.Timestamp);
            _video.Enqueue((frame, _order++));
        }
        else
        {
            if (!frame.IsConfig)
            {
                // The interval between the last two audio frames; 0 (unknown) across a jump or a reordering.
                var step = frame.Timestamp - _lastAudio;
                _audioSteps = _sawAudio && step is > 0 and <= MaxAudioStepMs ? (_audioSteps << 16) | (ulong)step : 0;
                _audioStep = ShortestStep(_audioSteps);
                _lastAudio = frame.Timestamp;
                _sawAudio = true;
            }

            _newestAudio = _audio.Count == 0 ? frame.Timestamp : Math.Max(_newestAudio, frame.Timestamp);
            _audio.Enqueue((frame, _order++));
        }
    }

    /// <summary>
    /// The next frame in order when it is due (<paramref name="flush"/>: the next frame regardless, e.g. at the end
    /// of the stream or before a discontinuity). The caller owns one reference on its payload.
    /// </summary>
    public bool TryTake(out MediaFrame frame, bool flush = false)
    {
        var haveAudio = _audio.TryPeek(out var audio);
        var haveVideo = _video.TryPeek(out var video);
        Queue<(MediaFrame Frame, long Order)>? from = null;
        _started |= _sawAudio && _sawVideo;
        if (haveAudio && haveVideo)
        {
            var skew = audio.Frame.Timestamp - video.Frame.Timestamp;
            // On a tie, an audio configuration goes before video media: after the keyframe it would reach the
            // segmenter once the segment (its PMT, its init segment) had been opened without an audio track.
            from = Math.Abs(skew) > MaxSkewMs
                ? (audio.Order < video.Order ? _audio : _video)
                : (skew < 0 || (skew == 0 && audio.Frame.IsConfig && !video.Frame.IsConfig) ? _audio : _video);
        }
        else if (haveAudio)
        {
            var waitedEnough = _newestAudio - audio.Frame.Timestamp > MaxDelayMs;
            _started |= waitedEnough;
            from = flush || (_started && !_sawVideo) || Count >= MaxQueuedFrames || waitedEnough ? _audio : null;
        }
        else if (haveVideo)
        {
            from = flush || !_sawAudio || Count >= MaxQueuedFrames || _newestVideo - video.Frame.Timestamp > MaxDelayMs
                || AudioCaughtUp(video.Frame.Timestamp) ? _video : null;
        }

        if (from is null)
        {
            if (flush)
            {
                // Drained for a new publisher or the end: its audio may start anywhere.
                _audioSteps = 0;
                _audioStep = 0;
            }

            frame = default;
            return false;
        }

        frame = from.Dequeue().Frame;
        return true;
    }

    /// <summary>Whether the next audio frame, at the interval seen so far, is due at or after <paramref name="timestamp"/>.</summary>
    private bool AudioCaughtUp(long timestamp) =>
        _audioStep > 0 && _lastAudio + _audioStep - AudioJitterMs >= timestamp;

    /// <summary>The shortest known interval among the last four (0 when none is known).</summary>
    private static long ShortestStep(ulong steps)
    {
        var shortest = 0L;
        for (; steps != 0; steps >>= 16)
        {
            var step = (long)(steps & 0xFFFF);
            shortest = step != 0 && (shortest == 0 || step < shortest) ? step : shortest;
        }

        return shortest;
    }

    /// <summary>Releases every queued frame (the consumer is going away without processing them).</summary>
    public void Clear()
    {
        while (_audio.TryDequeue(out var audio))
        {
            audio.Frame.Payload.Release();
        }

        while (_video.TryDequeue(out var video))
        {
            video.Frame.Payload.Release();
        }
    }
}
