using System.Collections.Concurrent;
using System.Threading.Channels;
using MediaServer.Hls;
using MediaServer.Hls.Storage;
using MediaServer.Host.Data;
using Microsoft.Extensions.Options;

namespace MediaServer.Host.Recording;

/// <summary>
/// Records the HLS output of livestreams with <c>record: true</c>. For each HLS stream (one per session: a
/// reconnect within the reconnect window continues the same HLS stream, so the same recording) it takes a
/// lease on every finished segment and hands it to a recorder task that writes it to disk with
/// <see cref="RecordingWriter"/>: the very bytes served live, no second mux. The segmenter never waits for
/// the disk: a recorder that falls <see cref="MaxQueuedSegments"/> behind, or whose disk fails, stops with a
/// <c>failed</c> status and one log line, and the live stream goes on. So does one stopped by a limit (the
/// server's free-space floor, the livestream's <see cref="RecordingLimits"/>): status <c>stopped</c> with the reason,
/// a finished playlist, one log line and <see cref="RecordingStopped"/>.
/// </summary>
internal sealed class RecordingManager(
    HlsStreamStore hls,
    LivestreamStore livestreams,
    RecordingStore store,
    TimeProvider time,
    ILogger<RecordingManager> logger,
    IOptions<RecordingOptions>? options = null,
    IFreeSpaceProvider? freeSpace = null) : IHostedService
{
    /// <summary>Segments a recorder may be behind (about two minutes of 2 s segments) before it gives up.</summary>
    public const int MaxQueuedSegments = 64;

    private readonly ConcurrentDictionary<HlsStream, StreamRecorder> _recorders = new();
    private readonly LivestreamStore _livestreams = livestreams;
    private readonly RecordingStore _store = store;
    private readonly TimeProvider _time = time;
    private readonly ILogger _logger = logger;
    private readonly RecordingOptions _options = options?.Value ?? new RecordingOptions();
    private readonly IFreeSpaceProvider _freeSpace = freeSpace ?? new DriveFreeSpaceProvider();

    /// <summary>
    /// A recording stopped before its stream ended (a limit, or the disk): the internal hook for webhooks. Raised on
    /// the recorder's task; a handler that throws is logged and does not affect the recording.
    /// </summary>
    public event Action<RecordingStoppedEvent>? RecordingStopped;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        RecordingFiles.CreateDirectory(_store.Root);
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

    /// <summary>
    /// Deletes every recording of a livestream (it was deleted): sessions being written are abandoned first (their
    /// recorders stop writing), then the folder goes. False when there was nothing on disk.
    /// </summary>
    public async Task<bool> DeleteRecordingsAsync(string playbackId, CancellationToken cancellationToken = default)
    {
        var writing = new List<Task>();
        foreach (var recorder in _recorders.Values)
        {
            if (recorder.PlaybackId == playbackId)
            {
                recorder.Abandon();
                writing.Add(recorder.Completion);
            }
        }

        await Task.WhenAll(writing).WaitAsync(cancellationToken);
        await Task.Yield(); // the disk work below leaves the request's thread
        return _store.DeleteAll(playbackId);
    }

    private void Raise(RecordingStoppedEvent stopped)
    {
        try
        {
            RecordingStopped?.Invoke(stopped);
        }
#pragma warning disable CA1031 // a subscriber's failure must not end the recorder
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _logger.LogError(ex, "A RecordingStopped handler failed for {SessionId} of {PlaybackId}", stopped.SessionId, stopped.PlaybackId);
        }
    }

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
        private volatile bool _abandoned;

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

        /// <summary>Stops writing at once and leaves the session as it is (it is about to be deleted).</summary>
        public void Abandon()
        {
            _abandoned = true;
            _queue.Writer.TryComplete();
        }

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

                var limits = livestream.RecordingLimits ?? RecordingLimits.None;
                var stopped = false;
                await foreach (var segment in _queue.Reader.ReadAllAsync())
                {
                    try
                    {
                        if (!failed && !stopped && !_abandoned)
                        {
                            writer ??= Open(segment);

                            // Limits as they are now: a PATCH applies to the session being recorded (the lookup is cached).
                            if (await _owner._livestreams.FindByPlaybackIdAsync(PlaybackId) is { } current)
                            {
                                limits = current.RecordingLimits ?? RecordingLimits.None;
                            }

                            if (CheckLimits(writer, segment, limits) is { } exceeded)
                            {
                                stopped = true;
                                Detach();
                                Stop(writer, exceeded.Reason, exceeded.Message);
                                continue;
                            }

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

                if (_abandoned || failed || stopped || writer is null)
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
                writer?.Dispose(); // the playlist's append handle, whatever ended the session
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

        private (string Reason, string Message)? CheckLimits(RecordingWriter writer, HlsSegment segment, RecordingLimits limits)
        {
            var floor = _owner._options.MinFreeBytes;
            long? available = floor > 0 ? _owner._freeSpace.AvailableBytes(writer.Directory) : null;
            return RecordingLimitCheck.Exceeded(limits, floor, available, writer.DurationMs, writer.Bytes, segment.DurationMs, segment.Buffer.Length);
        }

        // A limit: the session ends here as a finished recording (VOD, EXT-X-ENDLIST), its status says which limit.
        private void Stop(RecordingWriter writer, string reason, string message)
        {
            var at = _owner._time.GetUtcNow();
            _owner._logger.LogWarning(
                "Recording {SessionId} of {PlaybackId} stopped ({Reason}) after {Segments} segments, {Bytes} bytes: {Message} The live stream goes on.",
                SessionId, PlaybackId, reason, writer.Segments, writer.Bytes, message);
            writer.Finish(at, RecordingStatus.Stopped, message, reason);
            _owner.Raise(new RecordingStoppedEvent(PlaybackId, SessionId, RecordingStatus.Stopped, reason, message, at, writer.Segments, writer.DurationMs, writer.Bytes));
        }

        private void Fail(RecordingWriter? writer, string error, Exception? exception)
        {
            var at = _owner._time.GetUtcNow();
            _owner._logger.LogError(exception, "Recording {SessionId} of {PlaybackId} stopped: {Error} The live stream goes on.", SessionId, PlaybackId, error);
            writer?.Fail(at, error);
            _owner.Raise(new RecordingStoppedEvent(PlaybackId, SessionId, RecordingStatus.Failed, RecordingStatus.Failed, error, at, writer?.Segments ?? 0, writer?.DurationMs ?? 0, writer?.Bytes ?? 0));
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
