namespace MediaServer.Core.Media;

/// <summary>
/// Keeps one track's decode timestamps strictly increasing, as MPEG-TS, fMP4 and every strict reader
/// require (ISO/IEC 13818-1 §2.4.3.7 orders access units by DTS; ffmpeg logs "non monotonically increasing
/// dts" and rewrites them the same way).
/// </summary>
/// <remarks>
/// The case it is for: GStreamer's RTMP publishers (<c>rtmp2sink</c>, and <c>rtmpsink</c> = librtmp) rebase a
/// B-frame stream to its first PTS and clamp the then negative DTS to 0, so the first frames arrive with the
/// same DTS (0, 0, 0, 33, ...). A DTS at or before the previous one, by at most
/// <see cref="MaxRepairedStepBackMs"/> of the sender's timeline, becomes the previous DTS + 1 ms; the PTS is
/// kept (so B-frame order and A/V sync stay as sent) and raised to the new DTS only where it would fall
/// below it. A larger step back is a real timeline jump (an encoder restart): it is passed through for the
/// segmenter to break on. Sequence headers are not media: they pass unchanged and do not move the timeline.
/// </remarks>
public struct DecodeTimestampRepair
{
    /// <summary>Largest step back (ms, on the sender's timeline) repaired; further is a jump, passed through.</summary>
    public const long MaxRepairedStepBackMs = 100;

    private long _lastIn;
    private long _lastOut;
    private bool _started;

    /// <summary>Repairs <paramref name="frame"/> in place; true when its timestamps changed.</summary>
    public bool Repair(ref MediaFrame frame)
    {
        if (frame.IsConfig)
        {
            return false;
        }

        var dts = frame.Timestamp;
        if (!_started || dts > _lastOut || dts < _lastIn - MaxRepairedStepBackMs)
        {
            _started = true;
            _lastIn = dts;
            _lastOut = dts;
            return false;
        }

        var repaired = _lastOut + 1;
        var pts = Math.Max(frame.PresentationTimestamp, repaired);
        frame = frame.WithTimestamps(repaired, (int)(pts - repaired));
        _lastIn = Math.Max(_lastIn, dts);
        _lastOut = repaired;
        return true;
    }
}
