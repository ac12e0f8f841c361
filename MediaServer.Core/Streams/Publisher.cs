using System.Numerics;
using MediaServer.Core.Diagnostics;
using MediaServer.Core.Media;
using Microsoft.Extensions.Logging;

namespace MediaServer.Core.Streams;

/// <summary>Why the hub revoked a publisher (what its connection tells the encoder before closing).</summary>
public enum PublisherRevokeReason : byte
{
    /// <summary>Not revoked.</summary>
    None = 0,

    /// <summary>Another publisher arrived with the same key and took the stream over.</summary>
    TakenOver = 1,

    /// <summary>The livestream was disabled or deleted.</summary>
    Disconnected = 2,

    /// <summary>The server is shutting down.</summary>
    ServerShutdown = 3,
}

/// <summary>
/// The one publishing side of a <see cref="LiveStream"/>. Dispose it when the publisher goes away.
/// </summary>
public sealed class Publisher : IDisposable
{
    private readonly StreamHub _hub;
    private readonly CancellationTokenSource _revoked = new();
    private DecodeTimestampRepair _videoTimeline;
    private DecodeTimestampRepair _audioTimeline;
    private bool _first = true;
    private int _disposed;

    internal Publisher(StreamHub hub, LiveStream stream)
    {
        _hub = hub;
        Stream = stream;
    }

    public LiveStream Stream { get; }

    /// <summary>Fires when another publisher took the stream over or the stream was shut down: close the connection.</summary>
    public CancellationToken Revoked => _revoked.Token;

    /// <summary>Why <see cref="Revoked"/> fired (set before it fires).</summary>
    public PublisherRevokeReason RevokeReason { get; private set; }

    /// <summary>Frames whose decode timestamp was moved to keep their track's DTS strictly increasing
    /// (<see cref="DecodeTimestampRepair"/>).</summary>
    public long RepairedTimestamps { get; private set; }

    /// <summary>
    /// Hands a frame to every subscriber. The caller keeps its own reference on the payload (and releases it
    /// after this call); the hub adds the references it keeps. A decode timestamp that does not move its
    /// track forward is repaired first (<see cref="DecodeTimestampRepair"/>), so every consumer sees the same
    /// strictly increasing DTS.
    /// </summary>
    public void Publish(in MediaFrame input)
    {
        if (Volatile.Read(ref _disposed) != 0 || _revoked.IsCancellationRequested)
        {
            return;
        }

        var frame = input;
        if (frame.Kind is MediaKind.Video or MediaKind.Audio
            && (frame.IsVideo ? ref _videoTimeline : ref _audioTimeline).Repair(ref frame))
        {
            CountRepair(input, frame);
        }

        if (_first)
        {
            _first = false;
            if (Stream.Generation > 1)
            {
                Stream.Distribute(frame.WithFlags(frame.Flags | FrameFlags.Discontinuity));
                return;
            }
        }

        Stream.Distribute(frame);
    }

    // Counted in the stream's diagnostics at 1, 2, 4, 8 ... repairs (a lock each time, so not per frame of an
    // encoder that sends every timestamp twice); logged once.
    private void CountRepair(in MediaFrame before, in MediaFrame after)
    {
        var count = ++RepairedTimestamps;
        if (!BitOperations.IsPow2(count))
        {
            return;
        }

        var message = $"{count} {(count == 1 ? "frame" : "frames")} arrived with a decode timestamp (DTS) not after the previous one of its track "
            + $"(latest: {before.Kind} DTS {before.Timestamp} ms); each was moved to 1 ms after it, PTS kept. GStreamer's RTMP publishers do this "
            + "at the start of a stream with B-frames; nothing is lost.";
        if (Stream.UpdateDiagnostic(DiagnosticKeys.TimestampsRepaired, message))
        {
            _hub.Logger.LogInformation(
                "Stream {StreamId}: {Kind} DTS {Dts} ms did not follow the previous frame's; moved to {Repaired} ms (PTS {Pts} ms kept); counted in {Key}",
                Stream.Id, before.Kind, before.Timestamp, after.Timestamp, after.PresentationTimestamp, DiagnosticKeys.TimestampsRepaired);
        }
    }

    /// <summary>A clean end (the encoder unpublished: FCUnpublish/deleteStream): the stream ends at once.</summary>
    public void Unpublish() => Close(clean: true);

    /// <summary>
    /// The publisher went away. Without a prior <see cref="Unpublish"/> this counts as a lost connection: the
    /// stream waits <see cref="StreamHubOptions.ReconnectWindow"/> for the encoder to come back.
    /// </summary>
    public void Dispose() => Close(clean: false);

    private void Close(bool clean)
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _hub.OnPublisherClosed(this, clean);
    }

    internal void Revoke(PublisherRevokeReason reason)
    {
        if (RevokeReason == PublisherRevokeReason.None)
        {
            RevokeReason = reason;
        }

        _revoked.Cancel();
    }
}
