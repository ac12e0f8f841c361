using MediaServer.Core.Streams;
using MediaServer.Host.Configuration;
using MediaServer.Host.Data;
using MediaServer.Host.Egress;
using Microsoft.Extensions.Options;

namespace MediaServer.Host.Restream;

/// <summary>
/// Runs one <see cref="RestreamTargetWorker"/> per restream target of every live livestream.
/// </summary>
/// <remarks>
/// Reacts to <see cref="StreamHub.StreamStarted"/>/<see cref="StreamHub.StreamEnded"/> and to
/// <see cref="LivestreamStore.Changed"/> (PATCH of <c>restream</c>, disable, delete): each event re-reads the
/// livestream and reconciles its workers — new targets get a worker, removed ones are stopped, the others are
/// left alone. Reconciliations run one at a time; the events themselves never block the publisher's thread.
/// </remarks>
internal sealed class RestreamManager : IHostedService, IAsyncDisposable
{
    private readonly StreamHub _hub;
    private readonly LivestreamStore _store;
    private readonly RestreamOptions _options;
    private readonly OutboundAddressPolicy _addresses;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Dictionary<RestreamTarget, RestreamTargetWorker>> _workers = new(StringComparer.Ordinal);
    private bool _stopped;

    public RestreamManager(StreamHub hub, LivestreamStore store, IOptions<MediaServerOptions> options, OutboundAddressPolicy addresses, ILoggerFactory loggerFactory, TimeProvider time)
    {
        _addresses = addresses;
        _hub = hub;
        _store = store;
        _options = options.Value.Restream;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<RestreamManager>();
        _time = time;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _hub.StreamStarted += OnStreamChanged;
        _hub.StreamEnded += OnStreamChanged;
        _store.Changed += OnLivestreamChanged;
        foreach (var stream in _hub.Streams)
        {
            OnLivestreamChanged(stream.Id);
        }

        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _hub.StreamStarted -= OnStreamChanged;
        _hub.StreamEnded -= OnStreamChanged;
        _store.Changed -= OnLivestreamChanged;
        List<RestreamTargetWorker> all = [];
        lock (_lock)
        {
            _stopped = true;
            foreach (var workers in _workers.Values)
            {
                all.AddRange(workers.Values);
            }

            _workers.Clear();
        }

        foreach (var worker in all)
        {
            await worker.DisposeAsync().ConfigureAwait(false);
        }
    }

    private void OnStreamChanged(LiveStream stream) => OnLivestreamChanged(stream.Id);

    private void OnLivestreamChanged(string playbackId) => _ = RefreshAsync(playbackId);

    /// <summary>Reconciles the workers of <paramref name="playbackId"/> with its livestream and live stream.</summary>
    public async Task RefreshAsync(string playbackId)
    {
        await _refresh.WaitAsync().ConfigureAwait(false);
        try
        {
            var stream = _hub.Find(playbackId);
            var livestream = stream is { IsEnded: false } ? await _store.FindByPlaybackIdAsync(playbackId).ConfigureAwait(false) : null;
            IReadOnlyList<RestreamTarget> desired = livestream is { Enabled: true } ? livestream.Restream : [];

            var stop = new List<RestreamTargetWorker>();
            lock (_lock)
            {
                if (_stopped)
                {
                    return;
                }

                _workers.TryGetValue(playbackId, out var current);
                foreach (var (target, worker) in current ?? [])
                {
                    if (worker.Stream != stream || !desired.Contains(target))
                    {
                        stop.Add(worker);
                    }
                }

                foreach (var worker in stop)
                {
                    current!.Remove(worker.Target);
                }

                foreach (var target in desired)
                {
                    if (current is not null && current.ContainsKey(target))
                    {
                        continue;
                    }

                    current ??= _workers[playbackId] = [];
                    var worker = new RestreamTargetWorker(stream!, target, _options, _addresses, _loggerFactory.CreateLogger<RestreamTargetWorker>(), _time);
                    current.Add(target, worker);
                    worker.Start();
                }

                if (current is { Count: 0 })
                {
                    _workers.Remove(playbackId);
                }
            }

            foreach (var worker in stop)
            {
                await worker.DisposeAsync().ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Restream {StreamId}: could not update the restream workers", playbackId);
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>The status of each of <paramref name="targets"/> (in their order) for a livestream.</summary>
    public IReadOnlyList<RestreamTargetStatus> GetStatus(string playbackId, IReadOnlyList<RestreamTarget> targets)
    {
        var result = new List<RestreamTargetStatus>(targets.Count);
        lock (_lock)
        {
            _workers.TryGetValue(playbackId, out var current);
            foreach (var target in targets)
            {
                result.Add(current is not null && current.TryGetValue(target, out var worker) ? worker.Status : RestreamTargetStatus.Idle(target.Url));
            }
        }

        return result;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _refresh.Dispose();
    }
}
