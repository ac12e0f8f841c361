using MediaServer.Core.Codecs;
using System.Buffers;
using MediaServer.Core.Media;
using MediaServer.Hls.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MediaServer.Hls.Segmenting;

/// <summary>A byte range of the segment being built, raised at part boundaries (the LL-HLS hook).</summary>
/// <param name="SegmentSequenceNumber">Media sequence number the segment will get.</param>
/// <param name="PartIndex">0-based index of the part within its segment.</param>
/// <param name="Buffer">The segment's buffer; parts are <c>Buffer.GetSequence(Offset + Length).Slice(Offset)</c>.</param>
/// <param name="Offset">First byte of the part.</param>
/// <param name="Length">Bytes in the part.</param>
/// <param name="DurationMs">Media duration of the part.</param>
/// <param name="Independent">The part starts with a keyframe (EXT-X-PART INDEPENDENT=YES).</param>
public readonly record struct SegmentPart(long SegmentSequenceNumber, int PartIndex, SegmentBuffer Buffer, long Offset, long Length, long DurationMs, bool Independent);

/// <summary>
/// The mechanics half of segmenting (SRS <c>SrsHlsMuxer</c>, gohlslib <c>muxer_segment_mpegts</c>): consumes
/// frames, drives the muxer into the current <see cref="SegmentBuffer"/>, closes segments (Flush) where
/// <see cref="SegmentationPolicy"/> says, opens new ones (WriteTables) and hands them to the
/// <see cref="HlsStream"/>. Single-threaded: one consumer task per stream calls it.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Segments start with a keyframe: with video, frames before the first video keyframe (and after a
/// break) are dropped; audio-only starts at once. A stream turns video-led as soon as a supported video
/// config or frame shows up (a track-set change: cut + discontinuity).</item>
/// <item>Breaks — a frame flagged <see cref="FrameFlags.Discontinuity"/> (publisher change), a new sequence
/// header different from the previous one, a DTS going back more than <see cref="MaxBackwardJumpMs"/> or
/// forward more than <see cref="MaxForwardJumpMs"/> — close the current segment and mark the next one
/// with EXT-X-DISCONTINUITY.</item>
/// <item>EXTINF = first DTS of the next segment − first DTS of this one; at a break or the end of the stream,
/// last lead-track DTS + one frame duration (estimated from the last DTS step) − first DTS.</item>
/// <item>Unsupported codecs (e.g. AV1 in TS): the track is skipped and a diagnostic recorded once.</item>
/// <item>LL-HLS hook: with a part duration, <see cref="PartCompleted"/> is raised at frame boundaries every
/// part duration and at segment end; the buffer can already be read up to the part's end.</item>
/// </list>
/// </remarks>
public sealed class HlsSegmenter
{
    /// <summary>A DTS going back further than this on one track is a new timeline (small steps back are
    /// encoder jitter and are muxed as they are).</summary>
    public const long MaxBackwardJumpMs = 100;

    /// <summary>A DTS jumping forward further than this on one track is a new timeline: no real gap (not even
    /// frames dropped to the next keyframe by a slow subscription) is that long.</summary>
    public const long MaxForwardJumpMs = 10_000;

    private const long DefaultVideoFrameMs = 33; // ~30 fps until a DTS step is seen.
    private const long DefaultAudioFrameMs = 23; // 1024 AAC samples at 44.1 kHz.
    private const long MaxFrameMs = 1000;        // A DTS step above this is a gap, not a frame duration.

    /// <summary>How far one track may run ahead of the other (as sent by the encoder) and still be cut at the same
    /// point in time: frames wait up to this much of their own media for the other track.</summary>
    public const long MaxInterleaveDelayMs = 1000;

    /// <summary>Segments closed by breaks held back, at most, before the target duration is fixed anyway
    /// (a publisher reconnecting in a loop must not keep the playlist unpublished).</summary>
    private const int MaxHeldBackSegments = 3;

    private readonly HlsStream _stream;
    private readonly ISegmentMuxer _muxer;
    private readonly SegmentationPolicy _policy;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Func<string, string, bool>? _reportDiagnostic;
    private readonly long _partDurationMs;
    private readonly DiscardWriter _discard = new();
    private readonly List<ClosedSegment> _heldBack = [];
    private readonly FrameInterleaver _interleaver = new(MaxInterleaveDelayMs);

    private SegmentBuffer? _segment;

    /// <summary>The segment being built (tests).</summary>
    internal SegmentBuffer? OpenSegment => _segment;
    private long _segmentStartDts;
    private long _segmentLastLeadDts;
    private bool _segmentDiscontinuity;
    private DateTimeOffset _segmentProgramDateTime;
    private bool _segmentHasMedia;
    private bool _pendingDiscontinuity;
    private DateTimeOffset? _nextProgramDateTime;

    private int _partIndex;
    private long _partStartOffset;
    private long _partStartDts;
    private bool _partIndependent;

    private bool _videoLed;
    private bool _ended;
    private byte[]? _videoConfig;
    private byte[]? _audioConfig;
    private MediaCodec _describedAudio;
    private long _lastVideoDts = long.MinValue;
    private long _lastAudioDts = long.MinValue;
    private long _videoFrameMs = DefaultVideoFrameMs;
    private long _audioFrameMs = DefaultAudioFrameMs;
    private bool _overlongReported;
    private long _backwardJumps;
    private long _forwardJumps;
    private bool _sizeCutReported;
    private MediaCodec _skippedVideo;
    private MediaCodec _skippedAudio;

    /// <param name="stream">Where complete segments go.</param>
    /// <param name="muxer">The container muxer (one per stream).</param>
    /// <param name="policy">Cut decisions and target duration (one per stream).</param>
    /// <param name="timeProvider">Wall clock for EXT-X-PROGRAM-DATE-TIME.</param>
    /// <param name="reportDiagnostic">Records a diagnostic (key, message) on the live stream, replacing the message of an earlier
    /// report (counts go up); returns true the first time, which is when it is logged (e.g. <c>LiveStream.UpdateDiagnostic</c>).</param>
    /// <param name="logger">Logs each diagnostic once.</param>
    /// <param name="partDuration">Raise <see cref="PartCompleted"/> every this much media; null: no parts.</param>
    public HlsSegmenter(
        HlsStream stream,
        ISegmentMuxer muxer,
        SegmentationPolicy policy,
        TimeProvider? timeProvider = null,
        Func<string, string, bool>? reportDiagnostic = null,
        ILogger? logger = null,
        TimeSpan? partDuration = null)
    {
        _stream = stream;
        _muxer = muxer;
        _policy = policy;
        _time = timeProvider ?? TimeProvider.System;
        _reportDiagnostic = reportDiagnostic;
        _logger = logger ?? NullLogger.Instance;
        _partDurationMs = partDuration is { } part ? Math.Max(1, (long)part.TotalMilliseconds) : 0;
    }

    /// <summary>Raised at part boundaries of the segment being built (see <see cref="SegmentPart"/>).</summary>
    public event Action<SegmentPart>? PartCompleted;

    /// <summary>Frames dropped while waiting for a keyframe (stream start, after a break).</summary>
    public long DroppedFrames { get; private set; }

    /// <summary>Frames the muxer refused (no config yet, unsupported).</summary>
    public long RefusedFrames { get; private set; }

    /// <summary>Whether cuts follow video keyframes.</summary>
    public bool IsVideoLed => _videoLed;

    /// <summary>Feeds one frame. The caller keeps its reference on the payload.</summary>
    /// <remarks>Audio and video are first put back in timestamp order (<see cref="FrameInterleaver"/>), so a frame
    /// may be segmented a little later, when the other track has caught up; <see cref="Complete"/> flushes.</remarks>
    public void Process(in MediaFrame frame)
    {
        if (_ended || frame.Kind is not (MediaKind.Video or MediaKind.Audio))
        {
            return;
        }

        if (!_muxer.IsSupported(frame.Codec))
        {
            SkipUnsupported(frame); // not segmented, so not ordered either
            return;
        }

        if ((frame.Flags & FrameFlags.Discontinuity) != 0)
        {
            Drain(flush: true); // a new publisher: the old one's frames first, and no ordering across the two
        }

        _interleaver.Add(frame);
        Drain(flush: false);
    }

    private void Drain(bool flush)
    {
        while (_interleaver.TryTake(out var next, flush))
        {
            try
            {
                ProcessInOrder(next);
            }
            finally
            {
                next.Payload.Release();
            }
        }
    }

    private void ProcessInOrder(in MediaFrame frame)
    {
        if (_ended || (frame.Flags & FrameFlags.EndOfSequence) != 0)
        {
            return;
        }

        if (!_muxer.IsSupported(frame.Codec))
        {
            SkipUnsupported(frame);
            return;
        }

        if ((frame.Flags & FrameFlags.Discontinuity) != 0)
        {
            BreakTimeline();
        }

        if (frame.IsVideo && !_videoLed)
        {
            // The track set gains video: cut any audio-only segment; from now on cut at video keyframes.
            if (_segment is not null)
            {
                BreakTimeline();
            }

            _videoLed = true;
        }

        if (frame.IsConfig)
        {
            ProcessConfig(frame);
            return;
        }

        if (frame.Codec == MediaCodec.Mp3 && _describedAudio != MediaCodec.Mp3)
        {
            // MP3 has no sequence header: its first frame is what tells the playlist about it.
            _describedAudio = MediaCodec.Mp3;
            _stream.DescribeTrack(video: false, CodecStrings.Describe(MediaCodec.Mp3, default));
        }

        ref var lastDts = ref frame.IsVideo ? ref _lastVideoDts : ref _lastAudioDts;
        if (lastDts != long.MinValue && (frame.Timestamp < lastDts - MaxBackwardJumpMs || frame.Timestamp > lastDts + MaxForwardJumpMs))
        {
            ReportJump(frame, lastDts);
            BreakTimeline();
        }

        var leads = _videoLed ? frame.IsVideo : frame.IsAudio;
        if (_segment is null)
        {
            if (_videoLed ? !(frame.IsVideo && frame.IsKeyframe) : !frame.IsAudio)
            {
                DroppedFrames++;
                return;
            }

            Open(frame);
        }
        else
        {
            var cut = _policy.Decide(_videoLed, frame.IsVideo, frame.IsKeyframe, frame.Timestamp - _segmentStartDts, _segment.Length);
            if (cut != SegmentCut.None)
            {
                if (cut == SegmentCut.Size)
                {
                    ReportSizeCut();
                }

                Close(frame.Timestamp, cutByPolicy: true);
                Open(frame);
            }
            else if (_partDurationMs > 0 && leads && frame.Timestamp - _partStartDts >= _partDurationMs)
            {
                EndPart(frame.Timestamp);
                _partStartDts = frame.Timestamp;
                _partIndependent = frame.IsVideo && frame.IsKeyframe;
            }
        }

        if (_muxer.Write(frame, _segment!))
        {
            _segmentHasMedia = true;
        }
        else
        {
            RefusedFrames++;
            if (!_segmentHasMedia)
            {
                // The segment's first frame could not be muxed (no config yet): it cannot start a segment.
                Discard();
                return;
            }
        }

        TrackTimestamps(frame, ref lastDts, leads);
    }

    /// <summary>
    /// The output failed: no more frames are processed and nothing more is published. Frames waiting in the
    /// interleaver, the segment being built and segments held back go back to their pools; segments already
    /// published stay with the stream.
    /// </summary>
    public void Abandon()
    {
        _ended = true;
        _interleaver.Clear();
        if (_segment is not null)
        {
            Discard();
        }

        foreach (var held in _heldBack)
        {
            held.Buffer.Release();
        }

        _heldBack.Clear();
    }

    /// <summary>The stream ended: closes the last segment and ends the playlist (EXT-X-ENDLIST).</summary>
    public void Complete()
    {
        if (_ended)
        {
            return;
        }

        try
        {
            Drain(flush: true);
        }
        finally
        {
            _interleaver.Clear();
        }

        _ended = true;
        if (_segment is not null)
        {
            Close(EstimatedEnd(), cutByPolicy: false);
        }

        PublishPending();
        _stream.MarkEnded();
    }

    private void ProcessConfig(in MediaFrame frame)
    {
        ref var previous = ref frame.IsVideo ? ref _videoConfig : ref _audioConfig;
        var span = frame.Span;
        if (previous is not null && span.SequenceEqual(previous))
        {
            _muxer.Write(frame, _segment ?? (IBufferWriter<byte>)_discard);
            return; // The same parameters again (e.g. re-offered after a subscription drop): nothing changes.
        }

        if (previous is not null)
        {
            BreakTimeline(); // New codec parameters: the next segment starts after a discontinuity.
        }

        previous = span.ToArray(); // Once per configuration change, not per frame.
        _stream.DescribeTrack(frame.IsVideo, CodecStrings.Describe(frame.Codec, span));
        if (frame.IsAudio)
        {
            _describedAudio = frame.Codec;
        }

        _muxer.Write(frame, _segment ?? (IBufferWriter<byte>)_discard);
    }

    private void TrackTimestamps(in MediaFrame frame, ref long lastDts, bool leads)
    {
        if (lastDts != long.MinValue)
        {
            var step = frame.Timestamp - lastDts;
            if (step is > 0 and <= MaxFrameMs)
            {
                if (frame.IsVideo)
                {
                    _videoFrameMs = step;
                }
                else
                {
                    _audioFrameMs = step;
                }
            }
        }

        lastDts = frame.Timestamp;
        if (leads && frame.Timestamp > _segmentLastLeadDts)
        {
            _segmentLastLeadDts = frame.Timestamp;
        }
    }

    private void Open(in MediaFrame frame)
    {
        _segment = new SegmentBuffer();
        _segmentStartDts = frame.Timestamp;
        _segmentLastLeadDts = frame.Timestamp;
        _segmentDiscontinuity = _pendingDiscontinuity && NextSequenceNumber > 0;
        _pendingDiscontinuity = false;
        _segmentProgramDateTime = !_segmentDiscontinuity && _nextProgramDateTime is { } next ? next : _time.GetUtcNow();
        _segmentHasMedia = false;
        _partIndex = 0;
        _partStartOffset = 0;
        _partStartDts = frame.Timestamp;
        _partIndependent = !_videoLed || (frame.IsVideo && frame.IsKeyframe);
        _muxer.WriteTables(_segment);
    }

    // cutByPolicy: closed at a cut point the policy chose (a keyframe once long enough, or the size cap), as
    // opposed to a break or the end of the stream, which can leave any length.
    private void Close(long endDts, bool cutByPolicy)
    {
        var segment = _segment!;
        _segment = null;
        _muxer.Flush(segment);
        if (!_segmentHasMedia)
        {
            segment.Release();
            return;
        }

        var durationMs = Math.Max(1, endDts - _segmentStartDts);
        EndPart(endDts, segment);
        _nextProgramDateTime = _segmentProgramDateTime.AddMilliseconds(durationMs);
        var closed = new ClosedSegment(durationMs, _segmentDiscontinuity, _segmentProgramDateTime, segment);
        if (_policy.TargetDuration == 0)
        {
            // The target is not fixed yet: hold segments back until one closes at a policy cut point (it shows
            // the keyframe interval), or MaxHeldBackSegments are waiting, or the stream ends; then fix the
            // target from the longest and publish them all.
            _heldBack.Add(closed);
            if (cutByPolicy || _heldBack.Count >= MaxHeldBackSegments)
            {
                PublishPending();
            }

            return;
        }

        Publish(closed);
    }

    private void PublishPending()
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

        _policy.FixTargetDuration(longest);
        var pending = _heldBack.ToArray();
        _heldBack.Clear(); // each buffer is the stream's once published; should a publish throw, Abandon must not release it again
        for (var i = 0; i < pending.Length; i++)
        {
            try
            {
                Publish(pending[i]);
            }
            catch
            {
                _heldBack.AddRange(pending.AsSpan(i + 1)); // not published yet: still ours
                throw;
            }
        }
    }

    private void Publish(in ClosedSegment closed)
    {
        var target = _policy.TargetDuration;
        if (_policy.ExceedsTarget(closed.DurationMs) && !_overlongReported)
        {
            _overlongReported = true;
            Report(
                "keyframe-interval",
                $"A segment lasted {closed.DurationMs / 1000.0:0.###} s, longer than the HLS target duration of {target} s, because the encoder's keyframe interval is longer than that. Set the encoder's keyframe interval to at most {target} s.");
        }

        _stream.AddSegment(target, closed.DurationMs, closed.Discontinuity, closed.ProgramDateTime, closed.Buffer);
    }

    private long NextSequenceNumber => _stream.NextSequenceNumber + _heldBack.Count;

    private void EndPart(long endDts, SegmentBuffer? segment = null)
    {
        segment ??= _segment!;
        if (_partDurationMs == 0 || PartCompleted is not { } handler)
        {
            return;
        }

        var end = segment.Length;
        if (end > _partStartOffset)
        {
            handler(new SegmentPart(NextSequenceNumber, _partIndex, segment, _partStartOffset, end - _partStartOffset, Math.Max(0, endDts - _partStartDts), _partIndependent));
            _partIndex++;
        }

        _partStartOffset = end;
    }

    private void Discard()
    {
        _segment!.Release();
        _segment = null;
    }

    // Closes the current segment at its estimated end and starts a new timeline: the next segment waits for
    // a keyframe (video) and carries EXT-X-DISCONTINUITY and a fresh EXT-X-PROGRAM-DATE-TIME.
    private void BreakTimeline()
    {
        if (_segment is not null)
        {
            Close(EstimatedEnd(), cutByPolicy: false);
        }

        _pendingDiscontinuity = true;
        _nextProgramDateTime = null;
        _lastVideoDts = long.MinValue;
        _lastAudioDts = long.MinValue;
    }

    private long EstimatedEnd() => _segmentLastLeadDts + (_videoLed ? _videoFrameMs : _audioFrameMs);

    private void SkipUnsupported(in MediaFrame frame)
    {
        ref var skipped = ref frame.IsVideo ? ref _skippedVideo : ref _skippedAudio;
        if (skipped == frame.Codec)
        {
            return;
        }

        skipped = frame.Codec;
        var track = frame.IsVideo ? "video" : "audio";
        Report(
            $"hls-unsupported-{track}-codec",
            $"HLS (MPEG-TS) cannot carry the {track} codec {frame.Codec}; the HLS output skips that track.");
    }

    // Counted and kept current in the stream's status; logged once (the diagnostic's first report).
    private void ReportJump(in MediaFrame frame, long lastDts)
    {
        if (frame.Timestamp < lastDts)
        {
            _backwardJumps++;
        }
        else
        {
            _forwardJumps++;
        }

        Report(
            "timestamps",
            $"The encoder's timestamps jumped {_backwardJumps + _forwardJumps} time(s) ({_backwardJumps} backwards, {_forwardJumps} forwards; the last on the {(frame.IsVideo ? "video" : "audio")} track from {lastDts} ms to {frame.Timestamp} ms). Each jump starts a new segment after EXT-X-DISCONTINUITY, where players may stall or skip. Check the encoder's clock and timestamp settings.");
    }

    private void ReportSizeCut()
    {
        if (_sizeCutReported)
        {
            return;
        }

        _sizeCutReported = true;
        Report("hls-segment-size", "An HLS segment reached the size limit (MaxSegmentBytes) and was cut without a keyframe; the encoder's keyframe interval is far too long.");
    }

    private void Report(string key, string message)
    {
        if (_reportDiagnostic?.Invoke(key, message) ?? true)
        {
            _logger.LogWarning("HLS stream {StreamId}: {Diagnostic}", _stream.StreamId, message);
        }
    }

    private readonly record struct ClosedSegment(long DurationMs, bool Discontinuity, DateTimeOffset ProgramDateTime, SegmentBuffer Buffer);

    /// <summary>Output for config frames while no segment is open (the muxer writes nothing for them).</summary>
    private sealed class DiscardWriter : IBufferWriter<byte>
    {
        private byte[] _scratch = [];

        public void Advance(int count)
        {
        }

        public Memory<byte> GetMemory(int sizeHint = 0) => Scratch(sizeHint);

        public Span<byte> GetSpan(int sizeHint = 0) => Scratch(sizeHint).Span;

        private Memory<byte> Scratch(int sizeHint)
        {
            if (_scratch.Length < Math.Max(sizeHint, 188))
            {
                _scratch = new byte[Math.Max(sizeHint, 4096)];
            }

            return _scratch;
        }
    }
}
