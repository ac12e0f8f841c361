using System.Collections.Concurrent;
using MediaServer.Core.Diagnostics;
using MediaServer.Core.Media;
using MediaServer.Core.Mp4;
using MediaServer.Core.Mpegts;
using MediaServer.Core.Streams;
using MediaServer.Hls.Segmenting;
using MediaServer.Hls.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MediaServer.Hls;

/// <summary>
/// Turns every live stream of the <see cref="StreamHub"/> into an HLS stream: as each stream starts, adds a
/// frame sink that runs its <see cref="HlsSegmenter"/> on the publisher's thread (frames → segmenter →
/// <see cref="HlsStream"/>), ends the playlist when the stream ends, and sweeps expired segments and ended
/// streams once a second.
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
    private readonly Func<ISegmentMuxer> _newMuxer;
    private readonly HlsMetrics? _metrics;
    private readonly ConcurrentDictionary<HlsOutput, byte> _outputs = new();
    private readonly Lock _activation = new();
    private ITimer? _sweeper;
    private int _started;
    private volatile bool _stopped;

    public HlsService(
        StreamHub hub,
        HlsStreamStore store,
        IOptions<HlsOptions> options,
        ILoggerFactory? loggerFactory = null,
        TimeProvider? timeProvider = null,
        Func<ISegmentMuxer>? muxerFactory = null,
        HlsMetrics? metrics = null)
    {
        _metrics = metrics;
        _hub = hub;
        _store = store;
        _options = options.Value;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<HlsService>();
        _time = timeProvider ?? TimeProvider.System;
        _newMuxer = muxerFactory ?? (static () => new TsMuxer());
    }

    /// <summary>Streams being segmented (tests, status).</summary>
    public int ActiveStreams => _outputs.Count;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            return Task.CompletedTask;
        }

        _hub.StreamStarted += OnStreamStarted;
        _store.Activator = Activate;
        foreach (var live in _hub.Streams)
        {
            // Already live before we started: replay the GOP so the configs and a keyframe come first.
            Start(live, replayGop: true);
        }

        _sweeper = _time.CreateTimer(static state => ((HlsService)state!).Sweep(), this, SweepInterval, SweepInterval);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _hub.StreamStarted -= OnStreamStarted;
        _store.Activator = null;
        _stopped = true;
        if (_sweeper is not null)
        {
            await _sweeper.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var output in _outputs.Keys)
        {
            output.Stop();
        }
    }

    public void Dispose() => _sweeper?.Dispose();

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
        var ts = Start(live, replayGop, HlsContainer.Ts, _newMuxer(), live.UpdateDiagnostic);
        if (_options.Fmp4Rendition && !_options.IsFmp4OnDemand)
        {
            var fmp4 = StartFmp4(live, replayGop, onDemand: false);
            ts.LinkRendition(fmp4);
        }
        else if (_store.Find(live.Id, HlsContainer.Fmp4) is { } previous)
        {
            _store.Remove(previous); // the previous run's on-demand rendition: the next request starts this run's
        }
    }

    // The same frames into fMP4 (CMAF). Its diagnostics join the stream's only under keys MPEG-TS has not reported, so
    // the two renditions do not overwrite each other's messages. Each reports the other.
    private HlsStream StartFmp4(LiveStream live, bool replayGop, bool onDemand, long firstSequenceNumber = 0) =>
        Start(live, replayGop, HlsContainer.Fmp4, new Fmp4Muxer(), live.ReportDiagnostic, onDemand, firstSequenceNumber);

    // The first request for an on-demand rendition: it starts from the cached GOP, so its first segment completes at the
    // next keyframe after a segment duration.
    private HlsStream? Activate(string streamId, HlsContainer container)
    {
        if (_stopped || !_store.IsOnDemand(container))
        {
            return null;
        }

        lock (_activation)
        {
            if (_store.Find(streamId, container) is { } started)
            {
                return started;
            }

            if (_hub.Find(streamId) is not { IsEnded: false } live || _store.Find(streamId, HlsContainer.Ts) is not { IsEnded: false } ts)
            {
                return null;
            }

            // Numbered on from the TS rendition, not from 0: the two report about the same LAST-MSN, and hls.js makes no
            // blocking request after a playlist whose last segment is number 0 (it waits a target duration and stalls).
            var fmp4 = StartFmp4(live, replayGop: true, onDemand: true, ts.NextSequenceNumber);
            ts.LinkRendition(fmp4);
            _logger.LogInformation("HLS stream {StreamId}: fMP4 rendition started for a viewer", streamId);
            return fmp4;
        }
    }

    // Once a second: expired segments and ended streams go, and on-demand renditions nobody asked for lately stop.
    private void Sweep()
    {
        _store.Sweep();
        foreach (var output in _outputs.Keys)
        {
            if (output.OnDemand && output.Stream.Unrequested > _options.Fmp4IdleTimeout)
            {
                output.Stop();
                _store.Remove(output.Stream);
                _logger.LogInformation("HLS stream {StreamId}: fMP4 rendition stopped, no request for {Idle}", output.Stream.StreamId, _options.Fmp4IdleTimeout);
            }
        }
    }

    private HlsStream Start(LiveStream live, bool replayGop, HlsContainer container, ISegmentMuxer muxer, Func<string, string, bool> reportDiagnostic, bool onDemand = false, long firstSequenceNumber = 0)
    {
        var stream = new HlsStream(live.Id, _options, _time, container: container, firstSequenceNumber: firstSequenceNumber);
        _store.Add(stream);
        var segmenter = new HlsSegmenter(
            stream,
            muxer,
            new SegmentationPolicy(_options),
            _time,
            reportDiagnostic,
            _loggerFactory.CreateLogger<HlsSegmenter>(),
            _metrics);
        var output = new HlsOutput(this, live, stream, segmenter, onDemand, new AggregateErrorLog(_logger, $"HLS stream {live.Id} ({container})", "frame(s) that could not be segmented, dropped"));
        _outputs[output] = 0;

        // Raised on the publisher's thread before its first frame; from here on the segmenter runs on that thread,
        // frame by frame, with no queue and no thread hop (it only copies into memory).
        live.AddSink(output, replayGop);
        if (_stopped)
        {
            output.Stop(); // started while the host was stopping, after StopAsync went through the outputs
        }

        return stream;
    }

    private sealed class HlsOutput(HlsService service, LiveStream live, HlsStream stream, HlsSegmenter segmenter, bool onDemand, AggregateErrorLog failures) : IFrameSink
    {
        public HlsStream Stream => stream;

        /// <summary>Made only while watched: stopped by the sweep when unrequested.</summary>
        public bool OnDemand => onDemand;

        private int _consecutiveFailures;
        private int _done;

        public void OnFrame(in MediaFrame frame)
        {
            if (Volatile.Read(ref _done) != 0)
            {
                return;
            }

            try
            {
                segmenter.Process(frame);
                _consecutiveFailures = 0;
            }
            catch (Exception ex)
            {
                // A frame the muxer chokes on is dropped and counted, logged aggregated. Only a muxer that fails on
                // frame after frame ends this stream's HLS output. Nothing escapes to the publisher.
                failures.Add(ex.GetType().Name, ex.Message, ex);

                if (++_consecutiveFailures >= MaxConsecutiveFailures)
                {
                    Fail(new InvalidOperationException($"{_consecutiveFailures} frames in a row could not be segmented.", ex));
                }
            }
        }

        public void OnEnded()
        {
            if (Finish())
            {
                Complete();
                failures.Complete();
                service._logger.LogInformation(
                    "HLS stream {StreamId} ended ({Segments} segments, {Failures} frames failed)",
                    stream.StreamId,
                    stream.NextSequenceNumber,
                    failures.Count);
            }
        }

        /// <summary>The host is stopping: no more frames, and the playlist is ended.</summary>
        public void Stop()
        {
            // Done first, so a frame delivered from now on (a GOP replay still under way) is ignored; then out of the
            // stream, which waits for a frame being delivered; then the segmenter is ours alone.
            if (!Finish())
            {
                return;
            }

            live.RemoveSink(this);
            Complete();
        }

        private void Fail(Exception ex)
        {
            Finish();
            live.RemoveSink(this); // we hold the stream's lock already (frame delivery); it is reentrant
            segmenter.Abandon(); // queued frames and the segment being built go back to their pools
            service._logger.LogError(ex, "HLS stream {StreamId} failed; its playlist is ended", stream.StreamId);
            live.ReportDiagnostic(DiagnosticKeys.HlsFailed, $"The HLS output failed: {ex.Message}");
            stream.MarkEnded();
        }

        private bool Finish()
        {
            var first = Interlocked.Exchange(ref _done, 1) == 0;
            service._outputs.TryRemove(this, out _);
            return first;
        }

        private void Complete()
        {
            try
            {
                segmenter.Complete();
            }
            catch (Exception ex)
            {
                service._logger.LogError(ex, "HLS stream {StreamId}: the last segment could not be closed", stream.StreamId);
                stream.MarkEnded();
            }
        }
    }
}
