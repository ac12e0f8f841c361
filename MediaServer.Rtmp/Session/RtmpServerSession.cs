using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.IO.Pipelines;
using MediaServer.Core.Amf;
using MediaServer.Core.Diagnostics;
using MediaServer.Core.Flv;
using MediaServer.Core.Media;
using MediaServer.Core.Streams;
using MediaServer.Rtmp.Chunking;
using MediaServer.Rtmp.Handshake;
using MediaServer.Rtmp.Messages;
using Microsoft.Extensions.Logging;

namespace MediaServer.Rtmp.Session;

/// <summary>
/// One RTMP server connection: handshake, chunk stream, commands, and either publishing into the
/// <see cref="StreamHub"/> or playing a live stream back.
/// </summary>
/// <remarks>
/// One read loop: <c>ReadAsync</c>, parse every whole message in the buffer (payloads copied into pooled
/// buffers), <c>AdvanceTo</c> once in <c>finally</c>, then handle the messages. All writes go through
/// <see cref="RtmpOutput"/>. A protocol error ends this connection with one warning naming the reason.
/// </remarks>
[SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable", Justification = "The session lives exactly for RunAsync, which disposes them in its finally block.")]
public sealed partial class RtmpServerSession
{
    private const int HandshakeBytes = 1 + (2 * RtmpHandshake.PacketSize);

    // FLV errors are logged aggregated: the first, then at most one summary per interval.
    private const long MalformedLogIntervalMs = 10_000;

    // How long the session tries to deliver its last onStatus to a publisher it closes.
    private static readonly TimeSpan TellPublisherTimeout = TimeSpan.FromSeconds(1);

    private readonly IDuplexPipe _transport;
    private readonly StreamHub _hub;
    private readonly IStreamResolver _resolver;
    private readonly RtmpServerOptions _options;
    private readonly ILogger _logger;
    private readonly string? _remoteAddress;
    private readonly ChunkStreamReader _chunkReader;
    private readonly RtmpOutput _output;
    private readonly List<RtmpMessage> _pending = [];

    private CancellationTokenSource? _sessionCts;
    private CancellationToken _token;
    private bool _closeRequested;
    private string _closeReason = "closed";

    // Acknowledgements (§5.4.3): bytes received, 64-bit here, sent as 32 bits (wraps).
    private long _bytesReceived;
    private long _idleTimerArmedAt; // Environment.TickCount64 when the idle timeout was last re-armed
    private long _lastAckAt;
    private uint _ackWindow;
    private uint _lastWindowSent;

    // Connection state.
    private bool _connected;
    private string _app = string.Empty;
    private string? _appQuery;
    private uint _nextStreamId = 1;

    // Publishing.
    private Publisher? _publisher;
    private CancellationTokenRegistration _revokedRegistration;
    private bool _revoked;
    private PublisherRevokeReason _revokeReason;
    private uint _publishMessageStreamId;
    private RtmpMediaTimeline _timeline;
    private string? _unsupportedVideo;
    private string? _unsupportedAudio;
    private long _malformedFrames;
    private long _malformedLogged;
    private long _lastMalformedLog;
    private string? _streamId;

    // Playing.
    private Subscription? _subscription;
    private Task? _playTask;
    private CancellationTokenSource? _playCts;

    public RtmpServerSession(IDuplexPipe transport, StreamHub hub, IStreamResolver resolver, RtmpServerOptions options, ILogger logger, string? remoteAddress)
    {
        _transport = transport;
        _hub = hub;
        _resolver = resolver;
        _options = options;
        _logger = logger;
        _remoteAddress = remoteAddress;
        _chunkReader = new ChunkStreamReader(options.MaxIncomingMessageSize);
        _output = new RtmpOutput(transport.Output);
        _ackWindow = options.WindowAckSize;
    }

    /// <summary>The protocol error that ended the session, if any (for tests and diagnostics).</summary>
    public RtmpProtocolError? ProtocolError { get; private set; }

    /// <summary>Runs the connection until the peer leaves, a protocol error, a takeover or cancellation.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var sessionCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _sessionCts = sessionCts;
        _token = sessionCts.Token;
        try
        {
            await HandshakeAsync(cancellationToken).ConfigureAwait(false);
            sessionCts.CancelAfter(_options.PublisherIdleTimeout);
            _idleTimerArmedAt = Environment.TickCount64;
            await ReadLoopAsync().ConfigureAwait(false);
        }
        catch (RtmpProtocolException ex)
        {
            Fail(ex.Reason, ex.Message);
        }
        catch (OperationCanceledException) when (_revoked || (cancellationToken.IsCancellationRequested && _publisher is not null))
        {
            // Revoked by the hub (takeover, livestream disconnected, shutdown), or the host is stopping: tell the encoder.
            var reason = _revoked ? _revokeReason : PublisherRevokeReason.ServerShutdown;
            _revoked = true;
            _revokeReason = reason;
            _closeReason = DescribeRevoke(reason);
            _logger.LogInformation("RTMP {Remote}: stream {StreamId}: {Reason}; closing the publisher's connection", _remoteAddress, _streamId, _closeReason);
            await TellPublisherClosedAsync(reason).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            if (!_closeRequested)
            {
                Fail(RtmpProtocolError.IdleTimeout, $"No data from the peer for {_options.PublisherIdleTimeout.TotalSeconds:0.#} s.");
            }
        }
        catch (OperationCanceledException)
        {
            // The host closed the connection.
        }
        catch (IOException ex)
        {
            // The peer reset the connection: not a server problem.
            _logger.LogDebug("RTMP {Remote}: connection lost: {Message}", _remoteAddress, ex.Message);
        }
        catch (InvalidOperationException) when (cancellationToken.IsCancellationRequested)
        {
            // Pipe completed under us while shutting down.
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "RTMP {Remote}: session failed", _remoteAddress);
        }
        finally
        {
            await CleanupAsync().ConfigureAwait(false);
        }
    }

    private void Fail(RtmpProtocolError reason, string message)
    {
        ProtocolError = reason;
        _logger.LogWarning("RTMP {Remote}: closing connection: {Reason}: {Message}", _remoteAddress, reason, message);
    }

    private async Task HandshakeAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.HandshakeTimeout);
        var input = _transport.Input;
        var c1 = new byte[RtmpHandshake.PacketSize];
        var haveC1 = false;
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new RtmpProtocolException(RtmpProtocolError.HandshakeTimeout, $"Handshake not completed within {_options.HandshakeTimeout.TotalSeconds:0.#} s.");
            }

            var buffer = result.Buffer;
            var consumed = buffer.Start;
            var examined = buffer.End;
            var done = false;
            byte[]? response = null;
            try
            {
                (haveC1, done, consumed, response) = ParseHandshake(buffer, c1, haveC1);
                if (done)
                {
                    examined = consumed; // chunk data may follow C2 in the same read
                }
            }
            finally
            {
                input.AdvanceTo(consumed, examined);
            }

            if (response is not null)
            {
                await _output.SendRawAsync(response, timeout.Token).ConfigureAwait(false);
            }

            if (done)
            {
                _bytesReceived = HandshakeBytes;
                _lastAckAt = _bytesReceived;
                return;
            }

            if (result.IsCompleted)
            {
                throw new RtmpProtocolException(RtmpProtocolError.HandshakeIncomplete, "Connection closed during the handshake.");
            }
        }
    }

    private static (bool HaveC1, bool Done, SequencePosition Consumed, byte[]? Response) ParseHandshake(in ReadOnlySequence<byte> buffer, byte[] c1, bool haveC1)
    {
        var reader = new SequenceReader<byte>(buffer);
        byte[]? response = null;
        if (!haveC1)
        {
            if (!RtmpHandshake.TryReadC0C1(ref reader, c1))
            {
                return (false, false, reader.Position, null);
            }

            haveC1 = true;
            var writer = new ArrayBufferWriter<byte>(HandshakeBytes);
            RtmpHandshake.WriteS0S1S2(c1, writer);
            response = writer.WrittenSpan.ToArray();
        }

        var done = RtmpHandshake.TrySkipPacket(ref reader);
        return (haveC1, done, reader.Position, response);
    }

    private async Task ReadLoopAsync()
    {
        var input = _transport.Input;
        while (true)
        {
            var result = await input.ReadAsync(_token).ConfigureAwait(false);
            var buffer = result.Buffer;
            var consumed = buffer.Start;
            long consumedBytes = 0;
            try
            {
                (consumed, consumedBytes) = ParseMessages(buffer);
            }
            finally
            {
                input.AdvanceTo(consumed, buffer.End);
            }

            _bytesReceived += consumedBytes;
            if (_subscription is null && !_revoked)
            {
                // Players may be silent; everyone else (publishers, connections that never publish) must not be.
                // Re-armed at most every eighth of the timeout, not on every read (a timer update each time): the
                // peer is cut after between 7/8 of it and all of it without data.
                var now = Environment.TickCount64;
                if (now - _idleTimerArmedAt >= _options.PublisherIdleTimeout.TotalMilliseconds / 8)
                {
                    _idleTimerArmedAt = now;
                    _sessionCts!.CancelAfter(_options.PublisherIdleTimeout);
                }
            }

            await HandlePendingAsync().ConfigureAwait(false);

            if (_bytesReceived - _lastAckAt >= _ackWindow)
            {
                _lastAckAt = _bytesReceived;
                await _output.SendControlAsync(RtmpMessageType.Acknowledgement, ProtocolControl.Acknowledgement(unchecked((uint)_bytesReceived)), _token).ConfigureAwait(false);
            }

            if (_closeRequested || result.IsCompleted)
            {
                return;
            }
        }
    }

    private (SequencePosition Consumed, long Bytes) ParseMessages(in ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        while (_chunkReader.TryRead(ref reader, out var message))
        {
            _pending.Add(message);
        }

        return (reader.Position, reader.Consumed);
    }

    private async ValueTask HandlePendingAsync()
    {
        var index = 0;
        try
        {
            for (; index < _pending.Count; index++)
            {
                var message = _pending[index];
                try
                {
                    if (!_closeRequested)
                    {
                        await HandleMessageAsync(message).ConfigureAwait(false);
                    }
                }
                finally
                {
                    message.Payload.Release();
                }
            }
        }
        finally
        {
            for (index++; index < _pending.Count; index++)
            {
                _pending[index].Payload.Release();
            }

            _pending.Clear();
        }
    }

    private ValueTask HandleMessageAsync(RtmpMessage message)
    {
        switch (message.Type)
        {
            case RtmpMessageType.Audio:
            case RtmpMessageType.Video:
            case RtmpMessageType.DataAmf0:
            case RtmpMessageType.DataAmf3:
                OnMedia(message);
                return ValueTask.CompletedTask;
            case RtmpMessageType.Aggregate:
                OnAggregate(message);
                return ValueTask.CompletedTask;
            case RtmpMessageType.CommandAmf0:
            case RtmpMessageType.CommandAmf3:
                return HandleCommandAsync(ParseCommand(message), message.MessageStreamId);
            case RtmpMessageType.UserControl:
                var controlEvent = UserControlEvent.Parse(message.Span);
                if (controlEvent.EventType == UserControlEventType.PingRequest)
                {
                    return _output.SendUserControlAsync(UserControlEvent.PingResponse(controlEvent.Value), _token);
                }

                return ValueTask.CompletedTask;
            case RtmpMessageType.WindowAcknowledgementSize:
                var window = ProtocolControl.ReadUInt32(message.Span);
                if (window > 0)
                {
                    _ackWindow = window;
                }

                return ValueTask.CompletedTask;
            case RtmpMessageType.SetPeerBandwidth:
                // §5.4.5: answer with Window Acknowledgement Size when the window differs from the last one sent.
                var (size, _) = ProtocolControl.ReadSetPeerBandwidth(message.Span);
                if (size != _lastWindowSent && size > 0)
                {
                    _lastWindowSent = size;
                    return _output.SendControlAsync(RtmpMessageType.WindowAcknowledgementSize, ProtocolControl.WindowAcknowledgementSize(size), _token);
                }

                return ValueTask.CompletedTask;
            default:
                // Set Chunk Size and Abort were applied by the chunk reader; Acknowledgement and shared objects
                // carry nothing we act on.
                return ValueTask.CompletedTask;
        }
    }

    private static RtmpCommand ParseCommand(in RtmpMessage message)
    {
        try
        {
            return RtmpCommand.Parse(message.Span, message.Type == RtmpMessageType.CommandAmf3);
        }
        catch (AmfException ex)
        {
            throw new RtmpProtocolException(RtmpProtocolError.InvalidCommand, $"Malformed command: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// An aggregate message (§7.1.6): its audio, video and data sub-messages go through <see cref="OnMedia"/> as if
    /// sent one by one, as slices of the aggregate's buffer (no copy), on the aggregate's message stream and timeline.
    /// A malformed sub-message drops it and the rest of the aggregate, counted with the malformed frames.
    /// </summary>
    private void OnAggregate(in RtmpMessage message)
    {
        var offset = 0;
        var first = (uint?)null;
        try
        {
            while (RtmpAggregate.TryReadNext(message.Span, ref offset, out var sub))
            {
                first ??= sub.Timestamp;
                if (sub.Type is not (RtmpMessageType.Audio or RtmpMessageType.Video or RtmpMessageType.DataAmf0 or RtmpMessageType.DataAmf3))
                {
                    continue;
                }

                var payload = message.Payload.Slice(sub.Offset, sub.Length);
                try
                {
                    var timestamp = RtmpAggregate.Timestamp(message.Timestamp, first.Value, sub.Timestamp);
                    OnMedia(new RtmpMessage(message.ChunkStreamId, sub.Type, timestamp, message.MessageStreamId, payload));
                }
                finally
                {
                    payload.Release();
                }
            }
        }
        catch (FlvFormatException ex)
        {
            OnMalformedFrame(ex);
        }
    }

    private void OnMedia(in RtmpMessage message)
    {
        var publisher = _publisher;
        if (publisher is null || _revoked)
        {
            return; // Media before publish (or after a takeover) has nowhere to go.
        }

        if (!_timeline.TryMap(message, out var type, out var timestamp, out var body))
        {
            return;
        }

        FlvDemuxStatus status;
        MediaFrame frame;
        string? codec;
        try
        {
            status = FlvDemuxer.Demux(type, timestamp, message.Payload, body, out frame, out codec);
        }
        catch (FlvFormatException ex)
        {
            OnMalformedFrame(ex);
            return;
        }

        if (status == FlvDemuxStatus.Frame)
        {
            try
            {
                publisher.Publish(frame);
            }
            finally
            {
                frame.Payload.Release();
            }
        }
        else if (status == FlvDemuxStatus.UnsupportedCodec)
        {
            // Reported (and logged) once per kind and codec; later frames of it are dropped without formatting.
            if (!string.Equals(codec, type == FlvTagType.Video ? _unsupportedVideo : _unsupportedAudio, StringComparison.Ordinal))
            {
                ReportUnsupported(publisher, type, codec ?? "unknown");
            }
        }
    }

    private void ReportUnsupported(Publisher publisher, FlvTagType type, string codec)
    {
        if (type == FlvTagType.Video)
        {
            _unsupportedVideo = codec;
        }
        else
        {
            _unsupportedAudio = codec;
        }

        var kind = type == FlvTagType.Video ? "video" : type == FlvTagType.Audio ? "audio" : "data";
        var text = $"Unsupported {kind} codec '{codec}': it is not carried.";
        if (publisher.Stream.ReportDiagnostic(DiagnosticKeys.RtmpUnsupportedCodec(kind), text))
        {
            _logger.LogWarning("RTMP {Remote}: stream {StreamId}: {Message}", _remoteAddress, _streamId, text);
        }
    }

    private void OnMalformedFrame(FlvFormatException ex)
    {
        _malformedFrames++;
        var now = Environment.TickCount64;
        if (_malformedLogged == 0 || now - _lastMalformedLog >= MalformedLogIntervalMs)
        {
            _logger.LogWarning(
                "RTMP {Remote}: stream {StreamId}: dropped {Count} malformed frame(s) so far ({Error}: {Message})",
                _remoteAddress,
                _streamId,
                _malformedFrames,
                ex.Error,
                ex.Message);
            _malformedLogged = _malformedFrames;
            _lastMalformedLog = now;
        }
    }

    private async Task CleanupAsync()
    {
        // Closed by the server (livestream disconnected, shutdown): the stream ends now, with no reconnect window.
        StopPublishing(clean: _revoked && _revokeReason is PublisherRevokeReason.Disconnected or PublisherRevokeReason.ServerShutdown);
        await StopPlayingAsync().ConfigureAwait(false);
        foreach (var message in _pending)
        {
            message.Payload.Release();
        }

        _pending.Clear();
        _chunkReader.Dispose();
        if (_malformedFrames > _malformedLogged)
        {
            _logger.LogWarning("RTMP {Remote}: dropped {Count} malformed frame(s) in total", _remoteAddress, _malformedFrames);
        }

        await _transport.Input.CompleteAsync().ConfigureAwait(false);
        await _transport.Output.CompleteAsync().ConfigureAwait(false);
        _output.Dispose();
        _sessionCts = null;
    }
}
