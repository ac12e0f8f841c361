using System.Diagnostics;
using MediaServer.Core.Media;
using MediaServer.Hls.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MediaServer.Hls.Segmenting;

/// <summary>
/// The mechanics half of segmenting (SRS <c>SrsHlsMuxer</c>, gohlslib <c>muxer_segment_mpegts</c>): drives the muxer
/// into the segment being built (<see cref="SegmentBuilder"/>), ends parts and segments where
/// <see cref="SegmentationPolicy"/> says, and hands closed segments to the <see cref="HlsStream"/> in the order the
/// policy releases them. Single-threaded (the publisher's thread). Its rules are described once, in docs/HLS.md.
/// </summary>
public sealed class HlsSegmenter
{
    /// <summary>How far one track may run ahead of the other (as sent by the encoder) and still be cut at the same
    /// point in time: frames wait up to this much of their own media for the other track.</summary>
    public const long MaxInterleaveDelayMs = 1000;

    private readonly HlsStream _stream;
    private readonly ISegmentMuxer _muxer;
    private readonly SegmentationPolicy _policy;
    private readonly TimeProvider _time;
    private readonly SegmenterDiagnostics _diagnostics;
    private readonly FrameInterleaver _interleaver = new(MaxInterleaveDelayMs);
    private readonly TrackTimeline _video = new(TrackTimeline.DefaultVideoFrameMs);
    private readonly TrackTimeline _audio = new(TrackTimeline.DefaultAudioFrameMs);
    private readonly TrackConfigurations _configurations;
    private readonly HlsMetrics? _metrics;
    private readonly Queue<long> _videoArrivals = new(); // arrival ticks of the frames in the interleaver, per track
    private readonly Queue<long> _audioArrivals = new();
    private readonly List<long> _unlisted = [];          // arrival ticks of the lead-track frames not yet listed
    private long _arrival;

    private SegmentBuilder? _segment;
    private bool _pendingDiscontinuity;
    private DateTimeOffset? _nextProgramDateTime;
    private bool _videoLed;
    private bool _ended;

    /// <param name="stream">Where complete segments (and parts) go.</param>
    /// <param name="muxer">The container muxer (one per stream).</param>
    /// <param name="policy">Cut decisions, part budget, target duration and holding back (one per stream).</param>
    /// <param name="timeProvider">Wall clock for EXT-X-PROGRAM-DATE-TIME.</param>
    /// <param name="reportDiagnostic">Records a diagnostic (key, message) on the live stream; true the first time, when it is
    /// logged (e.g. <c>LiveStream.UpdateDiagnostic</c>).</param>
    /// <param name="logger">Logs each diagnostic once.</param>
    /// <param name="metrics">Records each lead-track frame's arrival-to-listed delay.</param>
    public HlsSegmenter(
        HlsStream stream,
        ISegmentMuxer muxer,
        SegmentationPolicy policy,
        TimeProvider? timeProvider = null,
        Func<string, string, bool>? reportDiagnostic = null,
        ILogger? logger = null,
        HlsMetrics? metrics = null)
    {
        _metrics = metrics;
        _stream = stream;
        _muxer = muxer;
        _policy = policy;
        _time = timeProvider ?? TimeProvider.System;
        _diagnostics = new SegmenterDiagnostics(stream.StreamId, reportDiagnostic, logger ?? NullLogger.Instance);
        _configurations = new TrackConfigurations(stream);
    }

    /// <summary>Frames dropped while waiting for a keyframe (stream start, after a break).</summary>
    public long DroppedFrames { get; private set; }

    /// <summary>Frames the muxer refused (no config yet, malformed).</summary>
    public long RefusedFrames => _diagnostics.RefusedFrames;

    /// <summary>Whether cuts follow video keyframes.</summary>
    public bool IsVideoLed => _videoLed;

    /// <summary>The buffer of the segment being built (tests).</summary>
    internal SegmentBuffer? OpenSegment => _segment?.Buffer;

    private long NextSequenceNumber => _stream.NextSequenceNumber + _policy.Pending;

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
            _diagnostics.Unsupported(frame); // not segmented, so not ordered either
            return;
        }

        if ((frame.Flags & FrameFlags.Discontinuity) != 0)
        {
            Drain(flush: true); // a new publisher: the old one's frames first, and no ordering across the two
        }

        if (_metrics is not null)
        {
            // Frames leave the interleaver in arrival order within their track, so a FIFO per track follows them.
            var arrivals = frame.IsVideo ? _videoArrivals : _audioArrivals;
            if (arrivals.Count >= 2 * FrameInterleaver.MaxQueuedFrames)
            {
                arrivals.Clear();
            }

            arrivals.Enqueue(Stopwatch.GetTimestamp());
        }

        _interleaver.Add(frame);
        Drain(flush: false);
    }

    /// <summary>
    /// The output failed: no more frames are processed and nothing more is published. Frames waiting in the
    /// interleaver, the segment being built and segments held back go back to their pools; segments already
    /// published stay with the stream.
    /// </summary>
    public void Abandon()
    {
        _ended = true;
        ClearInterleaver();
        Discard();
        _policy.Abandon();
        (_muxer as IDisposable)?.Dispose();
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
            ClearInterleaver();
        }

        _ended = true;
        Close(EstimatedEnd(), atCutPoint: false);
        _policy.ReleaseHeldBack();
        PublishReady();
        _diagnostics.Complete();
        (_muxer as IDisposable)?.Dispose();
        _stream.MarkEnded();
    }

    private void Drain(bool flush)
    {
        while (_interleaver.TryTake(out var next, flush))
        {
            if (_metrics is not null)
            {
                _arrival = (next.IsVideo ? _videoArrivals : _audioArrivals).TryDequeue(out var arrival) ? arrival : Stopwatch.GetTimestamp();
            }

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
            Configure(frame);
            return;
        }

        _configurations.See(frame);
        var track = frame.IsVideo ? _video : _audio;
        var jump = track.Check(frame.Timestamp);
        if (jump != TimelineJump.None)
        {
            _diagnostics.Jump(jump, frame.IsVideo, track.LastDts!.Value, frame.Timestamp);
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
            CutBefore(frame, track, leads);
        }

        var segment = _segment!;
        var rejection = _muxer.Write(frame, segment.Buffer);
        if (rejection != MuxRejection.None)
        {
            _diagnostics.Refused(rejection, frame.IsVideo);
            if (!segment.HasMedia)
            {
                Discard(); // The segment's first frame could not be muxed (no config yet): it cannot start a segment.
            }

            return;
        }

        segment.Wrote(frame.Timestamp, frame.PresentationTimestamp, leads);
        track.Advance(frame.Timestamp);
        if (leads && _metrics is not null && _unlisted.Count < 2 * FrameInterleaver.MaxQueuedFrames)
        {
            _unlisted.Add(_arrival);
        }
    }

    // Before a frame: a new segment where the policy cuts, else (lead track) a new part where the part budget ends.
    private void CutBefore(in MediaFrame frame, TrackTimeline track, bool leads)
    {
        var segment = _segment!;
        var cut = _policy.Decide(
            new CutCandidate(_videoLed, frame.IsVideo, frame.IsKeyframe, frame.PresentationTimestamp > segment.MaxLeadPts, track.FrameMs),
            frame.Timestamp - segment.StartDts,
            segment.Buffer.Length,
            segment.Independent);
        if (cut != SegmentCut.None)
        {
            if (cut == SegmentCut.Size)
            {
                _diagnostics.SizeCut();
            }
            else if (cut == SegmentCut.Split)
            {
                _diagnostics.Split((int)(_policy.SplitLimitMs / 1000));
            }

            Close(frame.Timestamp, atCutPoint: true);
            Open(frame);
        }
        else if (leads && _policy.EndsPart(segment.PartStartDts, frame.Timestamp, track.FrameMs))
        {
            // The part gets what the muxer holds back (audio), and the next one starts with the tables (PAT/PMT),
            // so that a player can start on any independent part.
            _muxer.Flush(segment.Buffer);
            EndPart(segment, frame.Timestamp, nextIndependent: !_videoLed || frame.IsKeyframe);
            _muxer.BeginSegment(segment.Buffer);
        }
    }

    private void Configure(in MediaFrame frame)
    {
        if (_configurations.Update(frame))
        {
            BreakTimeline(); // New codec parameters: the next segment starts after a discontinuity.
        }

        // The same parameters again (re-offered after a subscription drop) change nothing in the muxer either.
        var rejection = _muxer.Configure(frame);
        if (rejection != MuxRejection.None)
        {
            _diagnostics.Refused(rejection, frame.IsVideo);
        }
    }

    private void Open(in MediaFrame frame)
    {
        var discontinuity = _pendingDiscontinuity && NextSequenceNumber > 0;
        _pendingDiscontinuity = false;
        // Classic: the first segment's wall clock carried on by EXTINF; LL-HLS: each segment's first frame's arrival.
        var programDateTime = _policy.PartTargetMs == 0 && !discontinuity && _nextProgramDateTime is { } next ? next : _time.GetUtcNow();
        _segment = new SegmentBuilder(NextSequenceNumber, frame.Timestamp, discontinuity, programDateTime, !_videoLed || (frame.IsVideo && frame.IsKeyframe))
        {
            InitVersion = _configurations.PublishInitSegment(_muxer),
        };
        _muxer.BeginSegment(_segment.Buffer);
    }

    // atCutPoint: closed at a cut point the policy chose (a keyframe once long enough, or the size cap), as opposed
    // to a break or the end of the stream, which can leave any length.
    private void Close(long endDts, bool atCutPoint)
    {
        if (_segment is not { } segment)
        {
            return;
        }

        _segment = null;
        _muxer.Flush(segment.Buffer);
        if (!segment.HasMedia)
        {
            segment.Buffer.Release();
            return;
        }

        EndPart(segment, endDts, nextIndependent: false);
        var closed = segment.Close(endDts);
        _nextProgramDateTime = closed.ProgramDateTime.AddMilliseconds(closed.DurationMs);
        _policy.Add(closed, atCutPoint);
        PublishReady();
    }

    private void PublishReady()
    {
        while (_policy.TryTakeReady(out var closed))
        {
            var target = _policy.TargetDuration;
            if (_policy.ExceedsTarget(closed.DurationMs))
            {
                _diagnostics.KeyframeIntervalTooLong(closed.DurationMs, target);
            }

            _stream.AddSegment(target, closed.DurationMs, closed.Discontinuity, closed.ProgramDateTime, closed.Buffer, closed.Parts, closed.InitVersion);
            Listed();
        }
    }

    private void EndPart(SegmentBuilder segment, long endDts, bool nextIndependent)
    {
        if (_policy.PartTargetMs > 0 && segment.EndPart(endDts, nextIndependent) is { } part)
        {
            _stream.AddPart(part);
            Listed();
        }
    }

    // The frames written since the last listing are in the playlist now (once it has a target: before, parts and
    // held-back segments are not listed yet, and their frames wait for the segments that list them).
    private void Listed()
    {
        if (_metrics is null || _unlisted.Count == 0 || _stream.TargetDuration == 0)
        {
            return;
        }

        var now = Stopwatch.GetTimestamp();
        foreach (var arrival in _unlisted)
        {
            _metrics.FrameListed(_stream.Container, arrival, now);
        }

        _unlisted.Clear();
    }

    private void ClearInterleaver()
    {
        _interleaver.Clear();
        _videoArrivals.Clear();
        _audioArrivals.Clear();
    }

    private void Discard()
    {
        _unlisted.Clear();
        _segment?.Buffer.Release();
        _segment = null;
    }

    // Closes the current segment at its estimated end and starts a new timeline: the next segment waits for
    // a keyframe (video) and carries EXT-X-DISCONTINUITY and a fresh EXT-X-PROGRAM-DATE-TIME.
    private void BreakTimeline()
    {
        Close(EstimatedEnd(), atCutPoint: false);
        _pendingDiscontinuity = true;
        _nextProgramDateTime = null;
        _video.Reset();
        _audio.Reset();
    }

    private long EstimatedEnd() => (_segment?.LastLeadDts ?? 0) + (_videoLed ? _video.FrameMs : _audio.FrameMs);
}
