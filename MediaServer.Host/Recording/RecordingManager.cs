using System.Collections.Concurrent;
using System.Threading.Channels;
using MediaServer.Hls;
using MediaServer.Hls.Storage;
using MediaServer.Host.Data;

namespace MediaServer.Host.Recording;

/// <summary>
/// Records the HLS output of livestreams with <c>record: true</c>. For each HLS stream (one per session: a
/// reconnect within the reconnect window continues the same HLS stream, so the same recording) it takes a
/// lease on every finished segment and hands it to a recorder task that writes it to disk with
/// <see cref="RecordingWriter"/>: the very bytes served live, no second mux. The segmenter never waits for
/// the disk: a recorder that falls <see cref="MaxQueuedSegments"/> behind, or whose disk fails, stops with a
/// <c>failed</c> status and one log line, and the live stream goes on.
/// </summary>
internal sealed class RecordingManager(
    HlsStreamStore hls,
    LivestreamStore livestreams,
    RecordingStore store,
    TimeProvider time,
    ILogger<RecordingManager> logger) : IHostedService
{
    /// <summary>Segments a recorder may be behind (about two minutes of 2 s segments) before it gives up.</summary>
    public const int MaxQueuedSegments = 64;

    private readonly ConcurrentDictionary<HlsStream, StreamRecorder> _recorders = new();
    private readonly LivestreamStore _livestreams = livestreams;
    private readonly RecordingStore _store = store;
    private readonly TimeProvider _time = time;
    private readonly ILogger _logger = logger;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var directory in _store.RecoverInterrupted())
        {
            _logger.LogWarning("Recording {Directory} was left open by an unclean stop; finalized with every segment completed before it", directory);
        }

        hls.StreamAdded += OnStreamAdded;
        return Task.CompletedTask;
    }

    /// <summary>Waits for the recorders to finish their playlists (the HLS streams end on shutdown).</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        hls.StreamAdded -= OnStreamAdded;
        try
        {
            await Task.WhenAll(_recorders.Values.Select(static r => r.Completion)).WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _logger.LogWarning("Shutdown did not wait for {Count} recording(s) to finish; they are finalized at the next start", _recorders.Count);
        }
    }

    /// <summary>Whether a session is being written now (it cannot be deleted then).</summary>
    public bool IsRecording(string playbackId, string sessionId) =>
        _recorders.Values.Any(r => r.PlaybackId == playbackId && r.SessionId == sessionId && !r.Completion.IsCompleted);

    private void OnStreamAdded(HlsStream stream)
    {
        if (stream.Container != HlsContainer.Ts)
        {
            return; // recordings are the MPEG-TS rendition
        }

        var recorder = new StreamRecorder(this, stream);
        _recorders[stream] = recorder;
        recorder.Start();
    }

    private sealed class StreamRecorder
    {
        private readonly RecordingManager _owner;
        private readonly HlsStream _stream;
        private readonly Channel<HlsSegment> _queue = Channel.CreateBounded<HlsSegment>(
            new BoundedChannelOptions(MaxQueuedSegments) { SingleReader = true, SingleWriter = true });
        private volatile bool _overflowed;

        public StreamRecorder(RecordingManager owner, HlsStream stream)
        {
            _owner = owner;
            _stream = stream;
        }

        public string PlaybackId => _stream.StreamId;

        public string SessionId => _stream.SessionId;

        public Task Completion { get; private set; } = Task.CompletedTask;

        public void Start()
        {
            _stream.SegmentAdded += OnSegment;
            _stream.Ended += OnEnded;
            Completion = Task.Run(RunAsync);
        }

        // On the segmenter's thread: never blocks, never throws.
        private void OnSegment(HlsStream stream, HlsSegment segment)
        {
            if (_overflowed || !segment.Buffer.TryAcquire())
            {
                return;
            }

            if (!_queue.Writer.TryWrite(segment))
            {
                segment.Buffer.Release();
                _overflowed = true;
                _queue.Writer.TryComplete();
            }
        }

        private void OnEnded(HlsStream stream) => _queue.Writer.TryComplete();

        private async Task RunAsync()
        {
            var logger = _owner._logger;
            RecordingWriter? writer = null;
            var failed = false;
            try
            {
                var livestream = await _owner._livestreams.FindByPlaybackIdAsync(PlaybackId);
                if (livestream is not { Record: true })
                {
                    Detach();
                    return;
                }

                await foreach (var segment in _queue.Reader.ReadAllAsync())
                {
                    try
                    {
                        if (!failed)
                        {
                            writer ??= Open(segment);
                            writer.Append(segment.SequenceNumber, segment.DurationMs, segment.Discontinuity, segment.ProgramDateTime, segment.Buffer.GetSequence());
                        }
                    }
                    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                    {
                        failed = true;
                        Fail(writer, $"Writing to disk failed: {ex.Message}", ex);
                        Detach();
                    }
                    finally
                    {
                        segment.Buffer.Release();
                    }
                }

                if (failed || writer is null)
                {
                    return;
                }

                if (_overflowed)
                {
                    Fail(writer, $"The disk did not keep up: {MaxQueuedSegments} segments were waiting to be written.", null);
                    return;
                }

                writer.Finish(_owner._time.GetUtcNow());
                logger.LogInformation(
                    "Recording {SessionId} of {PlaybackId} complete: {Segments} segments, {Seconds:0.#} s, {Bytes} bytes",
                    SessionId, PlaybackId, writer.Segments, writer.DurationMs / 1000.0, writer.Bytes);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Fail(writer, $"Writing to disk failed: {ex.Message}", ex);
            }
            finally
            {
                Detach();
                _owner._recorders.TryRemove(new KeyValuePair<HlsStream, StreamRecorder>(_stream, this));
            }
        }

        private RecordingWriter Open(HlsSegment first)
        {
            var directory = _owner._store.SessionDirectory(PlaybackId, SessionId);
            var metadata = new RecordingMetadata(PlaybackId, SessionId, first.ProgramDateTime, null, RecordingStatus.Recording);
            _owner._logger.LogInformation("Recording {PlaybackId} to {Directory}", PlaybackId, directory);
            return new RecordingWriter(directory, metadata, _stream.TargetDuration);
        }

        private void Fail(RecordingWriter? writer, string error, Exception? exception)
        {
            _owner._logger.LogError(exception, "Recording {SessionId} of {PlaybackId} stopped: {Error} The live stream goes on.", SessionId, PlaybackId, error);
            writer?.Fail(_owner._time.GetUtcNow(), error);
        }

        // Stops taking leases and returns the ones still queued.
        private void Detach()
        {
            _stream.SegmentAdded -= OnSegment;
            _stream.Ended -= OnEnded;
            _queue.Writer.TryComplete();
            while (_queue.Reader.TryRead(out var segment))
            {
                segment.Buffer.Release();
            }
        }
    }
}
