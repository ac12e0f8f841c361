namespace MediaServer.Host.Recording;

/// <summary>
/// Decides whether the next segment may be recorded under the server's free-space floor and the livestream's
/// limits: pure, so the rules are tested without a disk. A limit is never exceeded: the segment that would take a
/// session past one is the first not recorded.
/// </summary>
internal static class RecordingLimitCheck
{
    /// <summary>The limit the next segment would break (reason and a sentence for the status), or null to record it.</summary>
    public static (string Reason, string Message)? Exceeded(
        Data.RecordingLimits limits, long minFreeBytes, long? availableBytes, long recordedMs, long recordedBytes, long segmentMs, long segmentBytes)
    {
        if (minFreeBytes > 0 && availableBytes is { } available && available - segmentBytes < minFreeBytes)
        {
            return (RecordingStopReason.MinFreeBytes,
                $"The disk's free space would fall below MediaServer:Recording:MinFreeBytes ({minFreeBytes} bytes): {available} bytes free.");
        }

        if (limits.MaxDurationSeconds is { } seconds && recordedMs + segmentMs > seconds * 1000)
        {
            return (RecordingStopReason.MaxDuration, $"The recording reached its livestream's maxDurationSeconds ({seconds} s).");
        }

        if (limits.MaxBytes is { } maxBytes && recordedBytes + segmentBytes > maxBytes)
        {
            return (RecordingStopReason.MaxBytes, $"The recording reached its livestream's maxBytes ({maxBytes} bytes).");
        }

        return null;
    }
}

/// <summary>
/// Raised when a recording stops before its stream ends: a limit (<see cref="Reason"/> names it, status
/// <c>stopped</c>) or the disk (reason <c>failed</c>). The live stream goes on. Shaped to be sent as a webhook.
/// </summary>
public sealed record RecordingStoppedEvent(
    string PlaybackId,
    string SessionId,
    string Status,
    string Reason,
    string Message,
    DateTimeOffset At,
    int Segments,
    long DurationMs,
    long Bytes);
