using MediaServer.Core.Media;

namespace MediaServer.Core.Streams;

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

    /// <summary>Ends the stream (or, under the reconnect policy, leaves it for the next publisher).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _hub.OnPublisherClosed(this);
        _revoked.Dispose();
    }

    internal void Revoke()
    {
        try
        {
            _revoked.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already gone.
        }
    }
}
