using System.Collections.Concurrent;

namespace MediaServer.Hls.Storage;

/// <summary>
/// The HLS streams being served, by stream id. A stream republished under the same id replaces the old
/// entry (the old one's segments are released; requests holding a lease finish first). Ended streams stay
/// servable for <see cref="HlsOptions.EndedStreamRetention"/>, then <see cref="Sweep"/> removes them.
/// </summary>
public sealed class HlsStreamStore : IDisposable
{
    private readonly ConcurrentDictionary<(string Id, HlsContainer Container), HlsStream> _streams = new();
    private readonly HlsOptions _options;

    public HlsStreamStore(HlsOptions options)
    {
        _options = options;
    }

    public int Count => _streams.Count;

    /// <summary>The stream with this id (live or ended but retained), or null.</summary>
    public HlsStream? Find(string streamId, HlsContainer container = HlsContainer.Ts) =>
        _streams.TryGetValue((streamId, container), out var stream) ? stream : null;

    /// <summary>
    /// Starts producing a rendition that is made only while watched (<see cref="HlsOptions.Fmp4OnDemand"/>) and returns
    /// it, or null when it cannot be made (no such live stream, not on demand). Set by <see cref="HlsService"/>.
    /// </summary>
    public Func<string, HlsContainer, HlsStream?>? Activator { get; set; }

    /// <summary>Whether <paramref name="container"/> is made only while watched.</summary>
    public bool IsOnDemand(HlsContainer container) => container == HlsContainer.Fmp4 && _options.IsFmp4OnDemand;

    /// <summary>How long the first playlist request of a rendition just started waits for its first segment: the cached
    /// GOP starts it at once, and it completes at the next keyframe after a segment duration.</summary>
    public TimeSpan FirstPlaylistWait => TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(10).Ticks, 3 * _options.SegmentDuration.Ticks));

    /// <summary>The stream, or the on-demand rendition started for this request (<see cref="Activator"/>).</summary>
    public HlsStream? FindOrActivate(string streamId, HlsContainer container) =>
        Find(streamId, container) ?? (IsOnDemand(container) ? Activator?.Invoke(streamId, container) : null);

    /// <summary>The container a request that names none gets: the configured one, fMP4 for HEVC.</summary>
    public HlsContainer DefaultContainer(string streamId) =>
        _options.Container == HlsContainer.Fmp4 || (_options.Fmp4Rendition && Find(streamId) is { IsHevc: true })
            ? HlsContainer.Fmp4
            : HlsContainer.Ts;

    /// <summary>
    /// Raised when a stream is added, before it has a segment, on the thread that adds it: a handler that
    /// subscribes to <see cref="HlsStream.SegmentAdded"/> there sees every segment of the stream.
    /// </summary>
    public event Action<HlsStream>? StreamAdded;

    /// <summary>Adds <paramref name="stream"/>, replacing and releasing any previous stream with the same id.</summary>
    public void Add(HlsStream stream)
    {
        StreamAdded?.Invoke(stream);
        HlsStream? previous = null;
        _streams.AddOrUpdate(
            (stream.StreamId, stream.Container),
            static (_, added) => added,
            (_, existing, added) =>
            {
                previous = existing;
                return added;
            },
            stream);
        if (previous is not null && !ReferenceEquals(previous, stream))
        {
            previous.Dispose();
        }
    }

    /// <summary>Removes a stream if it is still the one stored under its id.</summary>
    public bool Remove(HlsStream stream)
    {
        if (_streams.TryRemove(new KeyValuePair<(string, HlsContainer), HlsStream>((stream.StreamId, stream.Container), stream)))
        {
            stream.Dispose();
            return true;
        }

        return false;
    }

    /// <summary>
    /// Drops removed segments whose retention expired and ended streams older than
    /// <see cref="HlsOptions.EndedStreamRetention"/>. Called periodically by <see cref="HlsService"/>.
    /// </summary>
    public int Sweep()
    {
        var removed = 0;
        foreach (var (_, stream) in _streams)
        {
            stream.ExpireRemovedSegments();
            if (stream.EndedLongerThan(_options.EndedStreamRetention) && Remove(stream))
            {
                removed++;
            }
        }

        return removed;
    }

    public void Dispose()
    {
        foreach (var (_, stream) in _streams)
        {
            Remove(stream);
        }
    }
}
