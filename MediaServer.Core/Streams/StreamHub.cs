using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MediaServer.Core.Streams;

/// <summary>
/// The registry of live streams: one publisher per stream, any number of subscribers.
/// </summary>
/// <remarks>
/// A second publisher on a stream that already has one takes it over: the old publisher's
/// <see cref="Publisher.Revoked"/> token fires (its connection should close) and the stream goes on with
/// the new one, its first frame flagged <see cref="Media.FrameFlags.Discontinuity"/>. When the last
/// publisher leaves, the stream ends: subscribers drain and complete, <see cref="StreamEnded"/> fires.
/// </remarks>
public sealed class StreamHub
{
    private readonly ConcurrentDictionary<string, LiveStream> _streams = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly ILogger _logger;

    /// <summary>The hub's log (stream lifecycle, and what a publisher's frames needed repairing).</summary>
    internal ILogger Logger => _logger;

    private readonly TimeProvider _time;

    public StreamHub(StreamHubOptions? options = null, ILoggerFactory? loggerFactory = null, TimeProvider? time = null)
    {
        Options = options ?? new StreamHubOptions();
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<StreamHub>();
        _time = time ?? TimeProvider.System;
    }

    public StreamHubOptions Options { get; }

    /// <summary>Raised (synchronously, on the publisher's thread) when a stream gets its first publisher.</summary>
    public event Action<LiveStream>? StreamStarted;

    /// <summary>Raised when a stream has ended and its subscribers were completed.</summary>
    public event Action<LiveStream>? StreamEnded;

    /// <summary>Live streams right now.</summary>
    public ICollection<LiveStream> Streams => _streams.Values;

    /// <summary>The live stream with this id, or null.</summary>
    public LiveStream? Find(string streamId) => _streams.TryGetValue(streamId, out var stream) ? stream : null;

    /// <summary>Starts publishing on <paramref name="streamId"/>, taking the stream over if it already has a publisher.</summary>
    public Publisher Publish(string streamId)
    {
        ArgumentException.ThrowIfNullOrEmpty(streamId);
        LiveStream stream;
        Publisher? previous;
        Publisher publisher;
        bool started = false;
        lock (_lock)
        {
            if (!_streams.TryGetValue(streamId, out stream!))
            {
                stream = new LiveStream(streamId, Options);
                _streams[streamId] = stream;
                started = true;
            }

            publisher = new Publisher(this, stream);
            previous = stream.AttachPublisher(publisher);
            if (stream.CancelReconnectWait())
            {
                _logger.LogInformation("Stream {StreamId}: the publisher reconnected within the reconnect window", streamId);
            }
        }

        if (previous is not null)
        {
            _logger.LogInformation("Stream {StreamId}: a new publisher took over; closing the previous one", streamId);
            previous.Revoke(PublisherRevokeReason.TakenOver);
        }

        if (started)
        {
            _logger.LogInformation("Stream {StreamId} started", streamId);
            StreamStarted?.Invoke(stream);
        }

        return publisher;
    }

    /// <summary>
    /// Disconnects the publisher of <paramref name="streamId"/> (the livestream was deleted or disabled).
    /// Returns false when the stream is not live.
    /// </summary>
    public bool Disconnect(string streamId)
    {
        var publisher = Find(streamId)?.CurrentPublisher;
        if (publisher is null)
        {
            return false;
        }

        _logger.LogInformation("Stream {StreamId}: disconnecting the publisher", streamId);
        publisher.Revoke(PublisherRevokeReason.Disconnected);
        return true;
    }

    /// <summary>Ends every stream now (server shutdown): publishers are revoked, subscribers complete.</summary>
    public void Shutdown()
    {
        foreach (var stream in _streams.Values)
        {
            stream.CurrentPublisher?.Revoke(PublisherRevokeReason.ServerShutdown);
            EndStream(stream);
        }
    }

    internal void OnPublisherClosed(Publisher publisher, bool clean)
    {
        var stream = publisher.Stream;
        var window = Options.ReconnectWindow;
        lock (_lock)
        {
            if (!stream.DetachPublisher(publisher))
            {
                return; // taken over: the stream goes on with the new publisher
            }

            // A stream already ended (server shutdown, livestream deleted) has nothing to wait for.
            if (!clean && window > TimeSpan.Zero && !stream.IsEnded)
            {
                _logger.LogInformation("Stream {StreamId}: publisher lost; waiting {Seconds} s for it to reconnect", stream.Id, window.TotalSeconds);
                stream.WaitForReconnect(_time.CreateTimer(_ => EndIfStillWaiting(stream), null, window, Timeout.InfiniteTimeSpan));
                return;
            }
        }

        EndStream(stream);
    }

    private void EndIfStillWaiting(LiveStream stream)
    {
        lock (_lock)
        {
            if (!stream.CancelReconnectWait())
            {
                return;
            }
        }

        _logger.LogInformation("Stream {StreamId}: the publisher did not come back within the reconnect window", stream.Id);
        EndStream(stream);
    }

    private void EndStream(LiveStream stream)
    {
        lock (_lock)
        {
            if (!_streams.TryRemove(new KeyValuePair<string, LiveStream>(stream.Id, stream)))
            {
                return;
            }

            stream.CancelReconnectWait();
        }

        stream.End();
        _logger.LogInformation("Stream {StreamId} ended", stream.Id);
        StreamEnded?.Invoke(stream);
    }
}
