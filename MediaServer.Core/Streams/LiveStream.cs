using MediaServer.Core.Media;

namespace MediaServer.Core.Streams;

/// <summary>
/// One live stream: its current publisher, its subscribers, the latest decoder configurations and
/// metadata, and the cached group of pictures that lets a new player start on a keyframe at once.
/// </summary>
public sealed class LiveStream
{
    private readonly StreamHubOptions _options;
    private readonly Lock _lock = new();
    private readonly List<Subscription> _subscribers = [];
    private IFrameSink[] _sinks = []; // replaced, never changed in place: Distribute may iterate while a sink leaves
    private readonly List<MediaFrame> _gop = [];
    private long _gopBytes;
    private bool _gopOverflow;
    private MediaFrame? _videoConfig;
    private MediaFrame? _audioConfig;
    private MediaFrame? _metadata;
    private Publisher? _publisher;
    private bool _ended;
    private readonly Dictionary<string, string> _diagnostics = new(StringComparer.Ordinal);
    private long _framesIn;
    private long _bytesIn;

    internal LiveStream(string id, StreamHubOptions options)
    {
        Id = id;
        _options = options;
        StartedAt = DateTimeOffset.UtcNow;
    }

    public string Id { get; }

    public DateTimeOffset StartedAt { get; }

    /// <summary>How many publishers this stream has had (1 for the first, +1 per takeover or reconnect).</summary>
    public int Generation { get; private set; }

    public bool IsEnded => Volatile.Read(ref _ended);

    public long FramesIn => Interlocked.Read(ref _framesIn);

    public long BytesIn => Interlocked.Read(ref _bytesIn);

    /// <summary>True once a video configuration or video frame was seen.</summary>
    public bool HasVideo { get; private set; }

    /// <summary>True once an audio configuration or audio frame was seen.</summary>
    public bool HasAudio { get; private set; }

    public int SubscriberCount
    {
        get
        {
            lock (_lock)
            {
                return _subscribers.Count;
            }
        }
    }

    /// <summary>Problems a user can act on (unsupported codec, long keyframe interval, ...), by key.</summary>
    public IReadOnlyDictionary<string, string> Diagnostics
    {
        get
        {
            lock (_lock)
            {
                return new Dictionary<string, string>(_diagnostics, StringComparer.Ordinal);
            }
        }
    }

    /// <summary>
    /// Records a diagnostic for the stream's status. Returns true the first time a key is reported, so the
    /// caller logs it once.
    /// </summary>
    public bool ReportDiagnostic(string key, string message)
    {
        lock (_lock)
        {
            return _diagnostics.TryAdd(key, message);
        }
    }

    /// <summary>
    /// Records a diagnostic or replaces its message (e.g. a count that went up). Returns true the first time a key
    /// is reported, so the caller logs it once.
    /// </summary>
    public bool UpdateDiagnostic(string key, string message)
    {
        lock (_lock)
        {
            var first = !_diagnostics.ContainsKey(key);
            _diagnostics[key] = message;
            return first;
        }
    }

    /// <summary>
    /// Subscribes to the stream. With <paramref name="replayGop"/>, the subscriber first receives the
    /// metadata, the decoder configurations and the cached frames since the last keyframe.
    /// </summary>
    public Subscription Subscribe(bool replayGop, int? capacity = null)
    {
        var subscription = new Subscription(this, capacity ?? _options.SubscriberQueueCapacity);
        lock (_lock)
        {
            if (_ended)
            {
                subscription.Complete();
                return subscription;
            }

            if (replayGop)
            {
                Replay(subscription.Offer);
            }

            _subscribers.Add(subscription);
        }

        return subscription;
    }

    /// <summary>
    /// Adds a sink that gets every frame on the publisher's thread (see <see cref="IFrameSink"/>). With
    /// <paramref name="replayGop"/> it first gets the metadata, the decoder configurations and the cached frames since
    /// the last keyframe. On an ended stream the sink gets <see cref="IFrameSink.OnEnded"/> at once.
    /// </summary>
    public void AddSink(IFrameSink sink, bool replayGop)
    {
        lock (_lock)
        {
            if (!_ended)
            {
                if (replayGop)
                {
                    Replay(sink.OnFrame);
                }

                _sinks = [.. _sinks, sink];
                return;
            }
        }

        sink.OnEnded();
    }

    /// <summary>
    /// Removes a sink. Once this returns the sink gets no more frames (a frame being delivered holds the lock this
    /// takes); it does not get <see cref="IFrameSink.OnEnded"/> either.
    /// </summary>
    public void RemoveSink(IFrameSink sink)
    {
        lock (_lock)
        {
            var index = Array.IndexOf(_sinks, sink);
            if (index >= 0)
            {
                _sinks = [.. _sinks.AsSpan(0, index), .. _sinks.AsSpan(index + 1)];
            }
        }
    }

    private delegate void FrameHandler(in MediaFrame frame);

    private void Replay(FrameHandler handler)
    {
        if (_metadata is { } metadata)
        {
            handler(metadata);
        }

        if (_videoConfig is { } video)
        {
            handler(video);
        }

        if (_audioConfig is { } audio)
        {
            handler(audio);
        }

        foreach (var frame in _gop)
        {
            handler(frame);
        }
    }

    /// <summary>Offers the current configurations to a subscriber resuming after drops (called under the lock).</summary>
    internal void OfferConfigs(Subscription subscription)
    {
        if (_videoConfig is { } video)
        {
            subscription.Offer(video);
        }

        if (_audioConfig is { } audio)
        {
            subscription.Offer(audio);
        }
    }

    internal void Unsubscribe(Subscription subscription)
    {
        lock (_lock)
        {
            _subscribers.Remove(subscription);
        }
    }

    private ITimer? _reconnectTimer;

    /// <summary>True while the stream has lost its publisher and waits for it to reconnect.</summary>
    public bool IsWaitingForReconnect
    {
        get
        {
            lock (_lock)
            {
                return _reconnectTimer is not null;
            }
        }
    }

    internal void WaitForReconnect(ITimer timer)
    {
        lock (_lock)
        {
            _reconnectTimer?.Dispose();
            _reconnectTimer = timer;
        }
    }

    /// <summary>Stops waiting for a reconnect; true if the stream was waiting.</summary>
    internal bool CancelReconnectWait()
    {
        lock (_lock)
        {
            if (_reconnectTimer is null)
            {
                return false;
            }

            _reconnectTimer.Dispose();
            _reconnectTimer = null;
            return true;
        }
    }

    internal Publisher? CurrentPublisher
    {
        get
        {
            lock (_lock)
            {
                return _publisher;
            }
        }
    }

    internal Publisher? AttachPublisher(Publisher publisher)
    {
        lock (_lock)
        {
            var previous = _publisher;
            _publisher = publisher;
            Generation++;
            if (previous is not null)
            {
                ClearGop();
            }

            return previous;
        }
    }

    /// <summary>Returns true when the stream has no publisher left and must end.</summary>
    internal bool DetachPublisher(Publisher publisher)
    {
        lock (_lock)
        {
            if (!ReferenceEquals(_publisher, publisher))
            {
                return false;
            }

            _publisher = null;
            return true;
        }
    }

    internal void Distribute(in MediaFrame frame)
    {
        Interlocked.Increment(ref _framesIn);
        Interlocked.Add(ref _bytesIn, frame.Payload.Length);
        lock (_lock)
        {
            if (_ended)
            {
                return;
            }

            Remember(frame);
            foreach (var sink in _sinks)
            {
                sink.OnFrame(frame);
            }

            foreach (var subscriber in _subscribers)
            {
                subscriber.Offer(frame);
            }
        }
    }

    internal void End()
    {
        Subscription[] subscribers;
        IFrameSink[] sinks;
        lock (_lock)
        {
            if (_ended)
            {
                return;
            }

            Volatile.Write(ref _ended, true);
            subscribers = [.. _subscribers];
            _subscribers.Clear();
            sinks = _sinks;
            _sinks = [];
            ClearGop();
            Replace(ref _videoConfig, null);
            Replace(ref _audioConfig, null);
            Replace(ref _metadata, null);
        }

        foreach (var sink in sinks)
        {
            sink.OnEnded();
        }

        foreach (var subscriber in subscribers)
        {
            subscriber.Complete();
        }
    }

    private void Remember(in MediaFrame frame)
    {
        if (frame.Kind == MediaKind.Data)
        {
            Replace(ref _metadata, frame);
            return;
        }

        if (frame.IsVideo)
        {
            HasVideo = true;
        }
        else
        {
            HasAudio = true;
        }

        if (frame.IsConfig)
        {
            if (frame.IsVideo)
            {
                Replace(ref _videoConfig, frame);
            }
            else
            {
                Replace(ref _audioConfig, frame);
            }

            return;
        }

        if (!HasVideo)
        {
            return; // Audio-only: every frame is a random access point; nothing to cache.
        }

        if (frame.IsVideo && frame.IsKeyframe)
        {
            ClearGop();
            _gopOverflow = false;
        }
        else if (_gop.Count == 0 || _gopOverflow)
        {
            return; // No keyframe cached yet, or the GOP outgrew the cache: wait for the next keyframe.
        }

        if (_gop.Count >= _options.MaxGopCacheFrames || _gopBytes + frame.Payload.Length > _options.MaxGopCacheBytes)
        {
            ClearGop();
            _gopOverflow = true;
            return;
        }

        frame.Payload.AddRef();
        _gop.Add(frame);
        _gopBytes += frame.Payload.Length;
    }

    private void ClearGop()
    {
        foreach (var cached in _gop)
        {
            cached.Payload.Release();
        }

        _gop.Clear();
        _gopBytes = 0;
    }

    private static void Replace(ref MediaFrame? slot, MediaFrame? frame)
    {
        frame?.Payload.AddRef();
        slot?.Payload.Release();
        slot = frame;
    }
}
