using MediaServer.Core.Diagnostics;
using MediaServer.Core.Media;
using Microsoft.Extensions.Logging;

namespace MediaServer.Hls.Segmenting;

/// <summary>
/// What the segmenter tells the user about one stream: each problem recorded on the stream's status under a
/// <see cref="DiagnosticKeys"/> key and logged once (its first report), counts kept current in the message;
/// refused frames aggregated (<see cref="AggregateErrorLog"/>) by <see cref="MuxRejection"/>.
/// </summary>
internal sealed class SegmenterDiagnostics
{
    private readonly string _streamId;
    private readonly ILogger _logger;
    private readonly Func<string, string, bool>? _report;
    private readonly AggregateErrorLog _refusedLog;
    private readonly long[] _refusedByReason = new long[(int)MuxRejection.MalformedFrame + 1];
    private long _backwardJumps;
    private long _forwardJumps;
    private bool _overlongReported;
    private bool _sizeCutReported;
    private MediaCodec _skippedVideo;
    private MediaCodec _skippedAudio;

    /// <param name="streamId">For the log.</param>
    /// <param name="report">Records (key, message) on the stream, replacing an earlier message of the key; true the first time.</param>
    /// <param name="logger">Logs each diagnostic once.</param>
    public SegmenterDiagnostics(string streamId, Func<string, string, bool>? report, ILogger logger)
    {
        _streamId = streamId;
        _report = report;
        _logger = logger;
        _refusedLog = new AggregateErrorLog(logger, $"HLS stream {streamId}", "frame(s) refused by the muxer");
    }

    /// <summary>Frames the muxer refused.</summary>
    public long RefusedFrames => _refusedLog.Count;

    /// <summary>A track's codec cannot be carried: reported once per track and codec.</summary>
    public void Unsupported(in MediaFrame frame)
    {
        ref var skipped = ref frame.IsVideo ? ref _skippedVideo : ref _skippedAudio;
        if (skipped == frame.Codec)
        {
            return;
        }

        skipped = frame.Codec;
        var track = frame.IsVideo ? "video" : "audio";
        Report(
            frame.IsVideo ? DiagnosticKeys.HlsUnsupportedVideoCodec : DiagnosticKeys.HlsUnsupportedAudioCodec,
            $"HLS (MPEG-TS) cannot carry the {track} codec {frame.Codec}; the HLS output skips that track.");
    }

    /// <summary>The muxer refused a frame: counted by reason, logged aggregated, the status updated when logged.</summary>
    public void Refused(MuxRejection reason, bool video)
    {
        _refusedByReason[(int)reason]++;
        if (_refusedLog.Add(reason, video ? "video" : "audio"))
        {
            UpdateRefused();
        }
    }

    /// <summary>A DTS jumped on a track: counted and kept current in the status; logged once.</summary>
    public void Jump(TimelineJump jump, bool video, long from, long to)
    {
        if (jump == TimelineJump.Backward)
        {
            _backwardJumps++;
        }
        else
        {
            _forwardJumps++;
        }

        Report(
            DiagnosticKeys.HlsTimestampJumps,
            $"The encoder's timestamps jumped {_backwardJumps + _forwardJumps} time(s) ({_backwardJumps} backwards, {_forwardJumps} forwards; the last on the {(video ? "video" : "audio")} track from {from} ms to {to} ms). Each jump starts a new segment after EXT-X-DISCONTINUITY, where players may stall or skip. Check the encoder's clock and timestamp settings.");
    }

    /// <summary>Segments cut between keyframes because a GOP was longer than the target duration.</summary>
    public long Splits { get; private set; }

    /// <summary>A segment was cut between keyframes (a GOP longer than the target): counted, the stream's diagnostic
    /// updated at 1, 2, 4, 8 ... splits, logged once.</summary>
    public void Split(int targetDuration)
    {
        Splits++;
        if (System.Numerics.BitOperations.IsPow2(Splits))
        {
            Report(
                DiagnosticKeys.HlsKeyframeInterval,
                $"The encoder's keyframe interval is longer than the HLS target duration of {targetDuration} s: {Splits} segment(s) were cut between keyframes to keep every segment within the target (RFC 8216), and a player that starts on one of them waits for the next keyframe. Set the encoder's keyframe interval to at most {targetDuration} s.");
        }
    }

    /// <summary>A segment's EXTINF rounds above the target anyway (a gap in the frames): reported once.</summary>
    public void KeyframeIntervalTooLong(long durationMs, int targetDuration)
    {
        if (_overlongReported)
        {
            return;
        }

        _overlongReported = true;
        Report(
            DiagnosticKeys.HlsKeyframeInterval,
            $"A segment lasted {durationMs / 1000.0:0.###} s, longer than the HLS target duration of {targetDuration} s (the encoder left a gap of more than a frame). Check the encoder's timestamps and keyframe interval (at most {targetDuration} s).");
    }

    /// <summary>A segment reached the size cap: reported once.</summary>
    public void SizeCut()
    {
        if (_sizeCutReported)
        {
            return;
        }

        _sizeCutReported = true;
        Report(DiagnosticKeys.HlsSegmentSize, "An HLS segment reached the size limit (MaxSegmentBytes) and was cut without a keyframe; the encoder's keyframe interval is far too long.");
    }

    /// <summary>The stream ended: the refused-frame totals are logged and recorded if they changed since the last line.</summary>
    public void Complete()
    {
        if (_refusedLog.Count > _refusedLog.Logged)
        {
            UpdateRefused();
        }

        _refusedLog.Complete();
    }

    private void UpdateRefused()
    {
        var text = $"{_refusedLog.Count} frame(s) refused by the segment muxer ({_refusedByReason[(int)MuxRejection.NoConfig]} before their codec configuration, {_refusedByReason[(int)MuxRejection.InvalidConfig]} with a configuration it cannot use, {_refusedByReason[(int)MuxRejection.MalformedFrame]} malformed).";
        _report?.Invoke(DiagnosticKeys.HlsRefusedFrames, text);
    }

    private void Report(string key, string message)
    {
        if (_report?.Invoke(key, message) ?? true)
        {
            _logger.LogWarning("HLS stream {StreamId}: {Diagnostic}", _streamId, message);
        }
    }
}
