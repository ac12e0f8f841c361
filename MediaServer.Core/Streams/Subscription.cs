using System.Threading.Channels;
using MediaServer.Core.Media;

namespace MediaServer.Core.Streams;

/// <summary>
/// A subscriber's bounded queue of frames. When it is full the subscriber drops frames until the next
/// video keyframe (audio-only: until there is room again) and counts them, so a slow subscriber never
/// slows the publisher or anyone else (mediamtx <c>internal/stream</c>).
/// </summary>
/// <remarks>
/// Read with <see cref="WaitToReadAsync"/> and <see cref="TryRead"/>; each frame read holds one reference
/// on its payload, which the reader releases. <see cref="WaitToReadAsync"/> returns false once the stream
/// has ended and the queue is drained.
/// </remarks>
public sealed class Subscription : IDisposable
{
    private readonly LiveStream _stream;
    private readonly Channel<MediaFrame> _queue;
    private readonly int _capacity;
    private bool _dropping;
    private long _dropped;
    private int _disposed;

    internal Subscription(LiveStream stream, int capacity)
    {
        _stream = stream;
        _capacity = capacity;
        _queue = Channel.CreateBounded<MediaFrame>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public LiveStream Stream => _stream;

    /// <summary>Frames dropped because this subscriber fell behind.</summary>
    public long DroppedFrames => Interlocked.Read(ref _dropped);

    /// <summary>Frames waiting in the queue.</summary>
    public int Queued => _queue.Reader.Count;

    public ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default) =>
        _queue.Reader.WaitToReadAsync(cancellationToken);

    /// <summary>Takes the next frame; the caller owns one reference on its payload.</summary>
    public bool TryRead(out MediaFrame frame) => _queue.Reader.TryRead(out frame);

    /// <summary>Called with the stream's lock held, by the single publishing thread or the subscribe call.</summary>
    internal void Offer(in MediaFrame frame)
    {
        if (_dropping)
        {
            // Resume on a video keyframe (audio-only: on any frame) once there is room for it and the configurations.
            var resumes = _stream.HasVideo ? frame.IsVideo && frame.IsKeyframe : !frame.IsConfig;
            if (!resumes || _queue.Reader.Count + 3 > _capacity)
            {
                if (!frame.IsConfig)
                {
                    Interlocked.Increment(ref _dropped);
                }

                return;
            }

            _dropping = false;
            _stream.OfferConfigs(this);
        }

        frame.Payload.AddRef();
        if (!_queue.Writer.TryWrite(frame))
        {
            frame.Payload.Release();
            if (_queue.Reader.Completion.IsCompleted)
            {
                return;
            }

            _dropping = true;
            if (!frame.IsConfig)
            {
                Interlocked.Increment(ref _dropped);
            }
        }
    }

    internal void Complete() => _queue.Writer.TryComplete();

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stream.Unsubscribe(this);
        _queue.Writer.TryComplete();
        while (_queue.Reader.TryRead(out var frame))
        {
            frame.Payload.Release();
        }
    }
}
