using MediaServer.Core.Media;

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

    /// <summary>
    /// Hands a frame to every subscriber. The caller keeps its own reference on the payload (and releases it
    /// after this call); the hub adds the references it keeps.
    /// </summary>
    public void Publish(in MediaFrame frame)
    {
        if (Volatile.Read(ref _disposed) != 0 || _revoked.IsCancellationRequested)
        {
            return;
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
