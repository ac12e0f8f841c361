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
    // How long the session tries to deliver its last onStatus to a publisher it closes.
    private static readonly TimeSpan TellPublisherTimeout = TimeSpan.FromSeconds(1);

    private readonly IDuplexPipe _transport;
    private readonly StreamHub _hub;
    private readonly IStreamResolver _resolver;
    private readonly RtmpServerOptions _options;
    private readonly ILogger _logger;
    private readonly string? _remoteAddress;
    private readonly RtmpConnectionLimits? _limits;
    private readonly string _addressKey;
    private readonly ChunkStreamReader _chunkReader;
    private readonly RtmpOutput _output;
    private readonly List<RtmpMessage> _pending = [];

    private CancellationTokenSource? _sessionCts;
    private IdleTimer? _idle;
    private bool _closeRequested;
    private string _closeReason = "closed";
    private readonly AcknowledgementWindow _ack;

    // Connection state: the application of connect (null before it) and its query.
    private (string Name, string? Query)? _application;
    private uint _nextStreamId = 1;

    // Publishing or playing (at most one of them).
    private RtmpIngest? _ingest;
    private RtmpPlayback? _playback;

    /// <param name="limits">The server's player budgets; null: none (tests).</param>
    /// <param name="addressKey">The peer's address as <paramref name="limits"/> counts it (<see cref="RtmpConnectionLimits.AddressKey"/>).</param>
    public RtmpServerSession(IDuplexPipe transport, StreamHub hub, IStreamResolver resolver, RtmpServerOptions options, ILogger logger, string? remoteAddress, RtmpConnectionLimits? limits = null, string? addressKey = null)
    {
        _limits = limits;
        _addressKey = addressKey ?? remoteAddress ?? "";
        _transport = transport;
        _hub = hub;
        _resolver = resolver;
        _options = options;
        _logger = logger;
        _remoteAddress = remoteAddress;
        _chunkReader = new ChunkStreamReader(options.MaxIncomingMessageSize);

        // Until publish or play is accepted the peer is a stranger: a few chunk streams and a small reassembly budget
        // (a thousand one-byte chunk streams from each of many connections would pin memory for nothing).
        _chunkReader.Restrict(options.PreSessionMaxChunkStreams, options.PreSessionMaxPendingBytes);
        _output = new RtmpOutput(transport.Output);
        _ack = new AcknowledgementWindow(options.WindowAckSize);
    }

    private readonly StreamLogScope _logScope = new();

    /// <summary>The protocol error that ended the session, if any (for tests and diagnostics).</summary>
    public RtmpProtocolError? ProtocolError { get; private set; }

    /// <summary>
    /// The session ended because the player stopped reading (<see cref="RtmpServerOptions.PlayerWriteTimeout"/>): the
    /// host must abort the connection, since data still queued for the peer would otherwise keep it open.
    /// </summary>
    public bool AbortTransport { get; private set; }

    /// <summary>Runs the connection until the peer leaves, a protocol error, a takeover or cancellation.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var logScope = _logger.BeginScope(_logScope);
        using var sessionCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _sessionCts = sessionCts;
        _idle = new IdleTimer(sessionCts, _options.PublisherIdleTimeout);
        try
        {
            await RtmpServerHandshake.RunAsync(_transport.Input, _output, _options.HandshakeTimeout, cancellationToken).ConfigureAwait(false);
            _ack.ReceivedUnacknowledged(RtmpServerHandshake.Length);
            _idle.Arm();
            await ReadLoopAsync().ConfigureAwait(false);
        }
        catch (RtmpProtocolException ex)
        {
            Fail(ex.Reason, ex.Message);
        }
        catch (OperationCanceledException) when (_ingest is { } ingest && (ingest.Publisher.Revoked.IsCancellationRequested || cancellationToken.IsCancellationRequested))
        {
            // Revoked by the hub (takeover, livestream disconnected, shutdown), or the host is stopping: tell the encoder.
            var reason = ingest.Publisher.Revoked.IsCancellationRequested ? ingest.Publisher.RevokeReason : PublisherRevokeReason.ServerShutdown;
            _closeReason = DescribeRevoke(reason);
            _logger.LogInformation("RTMP {Remote}: stream {StreamId}: {Reason}; closing the publisher's connection", _remoteAddress, ingest.StreamId, _closeReason);
            await TellPublisherClosedAsync(ingest.MessageStreamId, reason).ConfigureAwait(false);

            // Closed by the server (livestream disconnected, shutdown): the stream ends now, with no reconnect window.
            StopPublishing(clean: reason is PublisherRevokeReason.Disconnected or PublisherRevokeReason.ServerShutdown);
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

    private async Task ReadLoopAsync()
    {
        var input = _transport.Input;
        var token = _sessionCts!.Token;
        while (true)
        {
            var result = await input.ReadAsync(token).ConfigureAwait(false);
            var buffer = result.Buffer;
            var consumed = buffer.Start;
            long consumedBytes = 0;
            var more = false;
            try
            {
                (consumed, consumedBytes, more) = ParseMessages(buffer);
            }
            finally
            {
                // Stopped early (a command before the session is trusted): the rest is read again at once.
                input.AdvanceTo(consumed, more ? consumed : buffer.End);
            }

            _ack.Received(consumedBytes);
            _idle!.Touch(); // players may be silent (their timer is off); everyone else must not be
            await HandlePendingAsync().ConfigureAwait(false);
            if (_ack.TryTakeAcknowledgement(out var sequenceNumber))
            {
                await _output.SendControlAsync(RtmpMessageType.Acknowledgement, ProtocolControl.Acknowledgement(sequenceNumber), token).ConfigureAwait(false);
            }

            if (_closeRequested || (result.IsCompleted && !more))
            {
                return;
            }
        }
    }

    private (SequencePosition Consumed, long Bytes, bool More) ParseMessages(in ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        while (_chunkReader.TryRead(ref reader, out var message))
        {
            _pending.Add(message);

            // Before publish/play is accepted, a command is handled before the bytes after it are parsed: an encoder
            // that sends its first keyframe right behind publish gets the full budget for it once publish is accepted.
            if (!_trusted && message.Type is RtmpMessageType.CommandAmf0 or RtmpMessageType.CommandAmf3)
            {
                return (reader.Position, reader.Consumed, reader.Remaining > 0);
            }
        }

        return (reader.Position, reader.Consumed, false);
    }

    // Publish or play was accepted. A publisher gets the full chunk-stream and reassembly budgets (it sends media);
    // a player keeps the narrow pre-session ones: it only ever sends control messages and small commands, and a
    // stranger who may play any public stream must not pin a publisher's budget per connection.
    private bool _trusted;

    private void Trust(bool publisher)
    {
        _trusted = true;
        if (publisher)
        {
            _chunkReader.LiftLimits();
        }
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
                Ingest?.OnMedia(message); // media before publish (or after a takeover) has nowhere to go
                return ValueTask.CompletedTask;
            case RtmpMessageType.Aggregate:
                Ingest?.OnAggregate(message);
                return ValueTask.CompletedTask;
            case RtmpMessageType.CommandAmf0:
            case RtmpMessageType.CommandAmf3:
                return HandleCommandAsync(ParseCommand(message), message.MessageStreamId);
            case RtmpMessageType.UserControl:
                var controlEvent = UserControlEvent.Parse(message.Span);
                if (controlEvent.EventType == UserControlEventType.PingRequest)
                {
                    return _output.SendUserControlAsync(UserControlEvent.PingResponse(controlEvent.Value), Token);
                }

                return ValueTask.CompletedTask;
            case RtmpMessageType.WindowAcknowledgementSize:
                _ack.SetWindow(ProtocolControl.ReadUInt32(message.Span));
                return ValueTask.CompletedTask;
            case RtmpMessageType.SetPeerBandwidth:
                // §5.4.5: answer with Window Acknowledgement Size when the window differs from the last one sent.
                var (size, _) = ProtocolControl.ReadSetPeerBandwidth(message.Span);
                if (_ack.ShouldAnnounce(size))
                {
                    return _output.SendControlAsync(RtmpMessageType.WindowAcknowledgementSize, ProtocolControl.WindowAcknowledgementSize(size), Token);
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

    // The ingest while it may take media: not after the hub revoked the publisher.
    private RtmpIngest? Ingest => _ingest is { } ingest && !ingest.Publisher.Revoked.IsCancellationRequested ? ingest : null;

    private CancellationToken Token => _sessionCts!.Token;

    private async Task CleanupAsync()
    {
        // Closed by the server (livestream disconnected, shutdown), even if the read loop ended first: the stream ends
        // now, with no reconnect window. Otherwise the connection was lost: the hub's reconnect window applies.
        var revoked = _ingest?.Publisher is { Revoked.IsCancellationRequested: true } publisher ? publisher.RevokeReason : PublisherRevokeReason.None;
        if (revoked != PublisherRevokeReason.None)
        {
            _closeReason = DescribeRevoke(revoked);
        }

        StopPublishing(clean: revoked is PublisherRevokeReason.Disconnected or PublisherRevokeReason.ServerShutdown);
        await StopPlayingAsync().ConfigureAwait(false);
        foreach (var message in _pending)
        {
            message.Payload.Release();
        }

        _pending.Clear();
        _chunkReader.Dispose();

        await _transport.Input.CompleteAsync().ConfigureAwait(false);
        await _transport.Output.CompleteAsync().ConfigureAwait(false);
        _output.Dispose();
        _sessionCts = null;
    }
}
