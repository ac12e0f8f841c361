using System.Collections.Concurrent;
using MediaServer.Core.Streams;
using MediaServer.Hls.Segmenting;
using MediaServer.Hls.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MediaServer.Hls;

/// <summary>
/// Turns every live stream of the <see cref="StreamHub"/> into an HLS stream: subscribes as each stream
/// starts, runs one consumer task per stream (subscription → <see cref="HlsSegmenter"/> →
/// <see cref="HlsStream"/>), ends the playlist when the subscription completes, and sweeps expired
/// segments and ended streams once a second.
/// </summary>
public sealed class HlsService : IHostedService, IDisposable
{
    /// <summary>How often removed segments and ended streams are swept.</summary>
    public static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(1);

    /// <summary>Frames in a row that may fail to segment before a stream's HLS output is ended: one bad frame
    /// is dropped, but a muxer failing on everything (~1 s of 25 fps video + audio) is broken for this stream.</summary>
    public const int MaxConsecutiveFailures = 50;

    private readonly StreamHub _hub;
    private readonly HlsStreamStore _store;
    private readonly HlsOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ISegmentMuxerFactory _muxers;
    private readonly ConcurrentDictionary<Subscription, Task> _consumers = new();
    private readonly CancellationTokenSource _stopping = new();
    private ITimer? _sweeper;
    private int _started;

    public HlsService(
        StreamHub hub,
        HlsStreamStore store,
        IOptions<HlsOptions> options,
        ILoggerFactory? loggerFactory = null,
        TimeProvider? timeProvider = null,
        ISegmentMuxerFactory? muxerFactory = null)
    {
        _hub = hub;
        _store = store;
        _options = options.Value;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<HlsService>();
        _time = timeProvider ?? TimeProvider.System;
        _muxers = muxerFactory ?? new TsSegmentMuxerFactory();
    }

    /// <summary>Consumer tasks running (tests, status).</summary>
    public int ActiveStreams => _consumers.Count;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            return Task.CompletedTask;
        }

        _hub.StreamStarted += OnStreamStarted;
        foreach (var live in _hub.Streams)
        {
            // Already live before we started: replay the GOP so the configs and a keyframe come first.
            Start(live, replayGop: true);
        }

        _sweeper = _time.CreateTimer(static state => ((HlsStreamStore)state!).Sweep(), _store, SweepInterval, SweepInterval);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _hub.StreamStarted -= OnStreamStarted;
        if (_sweeper is not null)
        {
            await _sweeper.DisposeAsync().ConfigureAwait(false);
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_consumers.Values).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The host gave up waiting; the consumers end on their own.
        }
    }

    public void Dispose()
    {
        _sweeper?.Dispose();
        _stopping.Dispose();
    }

    private void OnStreamStarted(LiveStream live)
    {
        try
        {
            Start(live, replayGop: false);
        }
        catch (Exception ex)
        {
            // Raised inside StreamHub.Publish: an HLS problem must not refuse the publisher.
            _logger.LogError(ex, "HLS output for stream {StreamId} could not start", live.Id);
        }
    }

    private void Start(LiveStream live, bool replayGop)
    {
        // Raised on the publisher's thread before its first frame: subscribe now, consume on the pool.
        var subscription = live.Subscribe(replayGop);
        var stream = new HlsStream(live.Id, _options, _time);
        _store.Add(stream);
        var segmenter = new HlsSegmenter(
            stream,
            _muxers.Create(),
            new SegmentationPolicy(_options),
            _time,
            live.UpdateDiagnostic,
            _loggerFactory.CreateLogger<HlsSegmenter>());
        _consumers[subscription] = Task.Run(() => ConsumeAsync(subscription, segmenter, stream));
    }

    private async Task ConsumeAsync(Subscription subscription, HlsSegmenter segmenter, HlsStream stream)
    {
        var cancellationToken = _stopping.Token;
        var failures = 0L;
        var consecutiveFailures = 0;
        try
        {
            while (await subscription.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (subscription.TryRead(out var frame))
                {
                    try
                    {
                        segmenter.Process(frame);
                        consecutiveFailures = 0;
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        // A frame the muxer chokes on is dropped and counted; the first failure is logged.
                        // Only a muxer that fails on frame after frame ends this stream's HLS output.
                        failures++;
                        if (failures == 1)
                        {
                            _logger.LogWarning(ex, "HLS stream {StreamId}: a frame could not be segmented; dropping it", stream.StreamId);
                        }

                        if (++consecutiveFailures >= MaxConsecutiveFailures)
                        {
                            throw new InvalidOperationException($"{consecutiveFailures} frames in a row could not be segmented.", ex);
                        }
                    }
                    finally
                    {
                        frame.Payload.Release();
                    }
                }
            }

            segmenter.Complete();
            _logger.LogInformation(
                "HLS stream {StreamId} ended ({Segments} segments, {Failures} frames failed)",
                stream.StreamId,
                stream.NextSequenceNumber,
                failures);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            segmenter.Complete();
        }
        catch (Exception ex)
        {
            // One stream's failure (e.g. a muxer bug) ends its HLS output only; the others go on.
            _logger.LogError(ex, "HLS stream {StreamId} failed; its playlist is ended", stream.StreamId);
            subscription.Stream.ReportDiagnostic("hls-failed", $"The HLS output failed: {ex.Message}");
            stream.MarkEnded();
        }
        finally
        {
            subscription.Dispose();
            _consumers.TryRemove(subscription, out _);
        }
    }
}
