using System.Buffers;
using System.IO.Pipelines;
using MediaServer.Core.Amf;
using MediaServer.Rtmp.Chunking;
using MediaServer.Rtmp.Handshake;
using MediaServer.Rtmp.Messages;
using MediaServer.Rtmp.Session;

namespace MediaServer.Rtmp.Client;

/// <summary>
/// A minimal RTMP client over an <see cref="IDuplexPipe"/>: simple handshake, connect, createStream,
/// publish/play, and raw message I/O. Used by tests and (later) restreaming. Not thread-safe for reads;
/// writes are serialised.
/// </summary>
public sealed class RtmpClientConnection : IAsyncDisposable
{
    /// <summary>Chunk streams as ffmpeg uses them: audio 4, video 6, data 8 (commands 3).</summary>
    public const int AudioChunkStream = 4;
    public const int VideoChunkStream = 6;
    public const int DataChunkStream = 8;

    private readonly IDuplexPipe _transport;
    private readonly ChunkStreamReader _reader;
    private readonly RtmpOutput _output;
    private double _nextTransactionId = 1;

    // Acknowledgements (§5.4.3): bytes received since the handshake began, acknowledged every window.
    private long _bytesReceived;
    private long _lastAckAt;
    private uint _ackWindow;
    private uint _lastWindowSent;

    public RtmpClientConnection(IDuplexPipe transport, int maxMessageSize = ChunkStreamReader.MaxWireMessageLength)
    {
        _transport = transport;
        _reader = new ChunkStreamReader(maxMessageSize);
        _output = new RtmpOutput(transport.Output);
    }

    /// <summary>Takes the next command transaction id.</summary>
    public double NextTransactionId() => _nextTransactionId++;

    /// <summary>Current outgoing chunk size.</summary>
    public int ChunkSize => _output.ChunkSize;

    /// <summary>Performs the simple handshake: C0+C1, wait S0+S1(+S2), C2.</summary>
    public async Task HandshakeAsync(CancellationToken cancellationToken)
    {
        var c0c1 = new ArrayBufferWriter<byte>(1 + RtmpHandshake.PacketSize);
        RtmpHandshake.WriteC0C1(c0c1);
        await _output.SendRawAsync(c0c1.WrittenMemory, cancellationToken).ConfigureAwait(false);

        var s1 = new byte[RtmpHandshake.PacketSize];
        var haveS1 = false;
        while (true)
        {
            var result = await _transport.Input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var (done, gotS1, consumed) = ParseHandshake(result.Buffer, s1, haveS1);
            _bytesReceived += result.Buffer.Slice(0, consumed).Length;
            var justGotS1 = gotS1 && !haveS1;
            haveS1 = gotS1;
            _transport.Input.AdvanceTo(consumed, done ? consumed : result.Buffer.End);
            if (justGotS1)
            {
                var c2 = new ArrayBufferWriter<byte>(RtmpHandshake.PacketSize);
                RtmpHandshake.WriteC2(s1, c2);
                await _output.SendRawAsync(c2.WrittenMemory, cancellationToken).ConfigureAwait(false);
            }

            if (done)
            {
                return;
            }

            if (result.IsCompleted)
            {
                throw new RtmpProtocolException(RtmpProtocolError.HandshakeIncomplete, "Server closed the connection during the handshake.");
            }
        }
    }

    private static (bool Done, bool HaveS1, SequencePosition Consumed) ParseHandshake(in ReadOnlySequence<byte> buffer, byte[] s1, bool haveS1)
    {
        var reader = new SequenceReader<byte>(buffer);
        if (!haveS1 && !RtmpHandshake.TryReadS0S1(ref reader, s1))
        {
            return (false, false, reader.Position);
        }

        return (RtmpHandshake.TrySkipPacket(ref reader), true, reader.Position);
    }

    /// <summary>Sends <c>connect</c> and returns the <c>_result</c> info object.</summary>
    /// <exception cref="RtmpProtocolException">The server answered <c>_error</c>.</exception>
    public async Task<AmfObject?> ConnectAsync(string app, string? tcUrl, CancellationToken cancellationToken, string flashVersion = "FMLE/3.0 (compatible; MediaServer)")
    {
        var parameters = new AmfObject
        {
            { "app", app },
            { "type", "nonprivate" },
            { "flashVer", flashVersion },
            { "tcUrl", tcUrl ?? $"rtmp://localhost/{app}" },
        };
        var reply = await CallAsync("connect", parameters, [], cancellationToken).ConfigureAwait(false);
        return reply.GetObjectArgument(0);
    }

    /// <summary>Sends <c>createStream</c> and returns the new message stream id.</summary>
    public async Task<uint> CreateStreamAsync(CancellationToken cancellationToken)
    {
        var reply = await CallAsync("createStream", null, [], cancellationToken).ConfigureAwait(false);
        return reply.Arguments.Length > 0 && reply.Arguments[0] is double id ? (uint)id : throw new RtmpProtocolException(RtmpProtocolError.UnexpectedResponse, "createStream returned no stream id.");
    }

    /// <summary>Sends releaseStream/FCPublish/publish like OBS and returns the first onStatus info object.</summary>
    public async Task<AmfObject> PublishAsync(uint streamId, string name, CancellationToken cancellationToken)
    {
        await SendCommandAsync(0, "releaseStream", _nextTransactionId++, null, [name], cancellationToken).ConfigureAwait(false);
        await SendCommandAsync(0, "FCPublish", _nextTransactionId++, null, [name], cancellationToken).ConfigureAwait(false);
        await SendCommandAsync(streamId, "publish", 0, null, [name, "live"], cancellationToken).ConfigureAwait(false);
        return await WaitForStatusAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends play and returns the first onStatus info object (Play.Reset or an error).</summary>
    public async Task<AmfObject> PlayAsync(uint streamId, string name, CancellationToken cancellationToken)
    {
        await SendCommandAsync(streamId, "play", 0, null, [name, -2d], cancellationToken).ConfigureAwait(false);
        return await WaitForStatusAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Waits for the next onStatus command and returns its info object.</summary>
    public async Task<AmfObject> WaitForStatusAsync(CancellationToken cancellationToken)
    {
        var status = await WaitForCommandAsync(c => c.Name == "onStatus", cancellationToken).ConfigureAwait(false);
        return status.GetObjectArgument(0) ?? throw new RtmpProtocolException(RtmpProtocolError.UnexpectedResponse, "onStatus without an info object.");
    }

    /// <summary>Announces and applies a new outgoing chunk size.</summary>
    public ValueTask SetChunkSizeAsync(int chunkSize, CancellationToken cancellationToken) => _output.SetChunkSizeAsync(chunkSize, cancellationToken);

    /// <summary>Writes one message (audio, video, data, or anything else) on a suitable chunk stream.</summary>
    public ValueTask WriteMessageAsync(RtmpMessageType type, uint timestamp, uint streamId, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var chunkStream = type switch
        {
            RtmpMessageType.Audio => AudioChunkStream,
            RtmpMessageType.Video => VideoChunkStream,
            RtmpMessageType.DataAmf0 or RtmpMessageType.DataAmf3 => DataChunkStream,
            RtmpMessageType.CommandAmf0 or RtmpMessageType.CommandAmf3 => RtmpOutput.CommandChunkStream,
            _ => ProtocolControl.ChunkStreamId,
        };
        return _output.SendAsync(chunkStream, type, timestamp, streamId, payload, cancellationToken);
    }

    /// <summary>Writes raw bytes to the connection (malformed-input tests).</summary>
    public ValueTask WriteRawAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken) => _output.SendRawAsync(bytes, cancellationToken);

    /// <summary>Sends an AMF0 command.</summary>
    public ValueTask SendCommandAsync(uint streamId, string name, double transactionId, object? commandObject, object?[] arguments, CancellationToken cancellationToken) =>
        _output.SendCommandAsync(RtmpOutput.CommandChunkStream, streamId, RtmpCommand.Encode(name, transactionId, commandObject, arguments), cancellationToken);

    /// <summary>Sends a command and waits for its <c>_result</c>; throws on <c>_error</c>.</summary>
    public async Task<RtmpCommand> CallAsync(string name, object? commandObject, object?[] arguments, CancellationToken cancellationToken)
    {
        var transactionId = _nextTransactionId++;
        await SendCommandAsync(0, name, transactionId, commandObject, arguments, cancellationToken).ConfigureAwait(false);
        var reply = await WaitForCommandAsync(c => c.TransactionId == transactionId && c.Name is "_result" or "_error", cancellationToken).ConfigureAwait(false);
        if (reply.Name == "_error")
        {
            throw new RtmpProtocolException(RtmpProtocolError.Rejected, $"{name} refused by the server: {DescribeStatus(reply.GetObjectArgument(0))}");
        }

        return reply;
    }

    /// <summary>"code: description" of a status/info object, for error messages.</summary>
    public static string DescribeStatus(AmfObject? info)
    {
        if (info is null)
        {
            return "(no info object)";
        }

        var code = info.TryGetString("code", out var c) ? c : "(no code)";
        return info.TryGetString("description", out var d) && !string.IsNullOrEmpty(d) ? $"{code}: {d}" : code;
    }

    /// <summary>Reads messages until a command matches, skipping (and releasing) everything else.</summary>
    public async Task<RtmpCommand> WaitForCommandAsync(Func<RtmpCommand, bool> predicate, CancellationToken cancellationToken)
    {
        while (true)
        {
            var message = await ReadMessageAsync(cancellationToken).ConfigureAwait(false)
                ?? throw new RtmpProtocolException(RtmpProtocolError.ConnectionClosed, "Connection closed while waiting for a command.");
            try
            {
                if (message.Type is RtmpMessageType.CommandAmf0 or RtmpMessageType.CommandAmf3)
                {
                    var command = RtmpCommand.Parse(message.Span, message.Type == RtmpMessageType.CommandAmf3);
                    if (predicate(command))
                    {
                        return command;
                    }
                }
            }
            finally
            {
                message.Payload.Release();
            }
        }
    }

    /// <summary>
    /// Reads the next message, or null when the server closed the connection. Answers ping requests. The
    /// caller owns the payload.
    /// </summary>
    public async ValueTask<RtmpMessage?> ReadMessageAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await _transport.Input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var (got, message, consumed, bytes) = Parse(result.Buffer);
            _transport.Input.AdvanceTo(consumed, got ? consumed : result.Buffer.End);
            _bytesReceived += bytes;
            if (got)
            {
                try
                {
                    await HandleControlAsync(message, cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    message.Payload.Release();
                    throw;
                }

                return message;
            }

            if (result.IsCompleted)
            {
                return null;
            }
        }
    }

    private (bool Got, RtmpMessage Message, SequencePosition Consumed, long Bytes) Parse(in ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        var got = _reader.TryRead(ref reader, out var message);
        return (got, message, reader.Position, reader.Consumed);
    }

    /// <summary>Pings, the server's acknowledgement window and peer bandwidth; then our Acknowledgement when due.</summary>
    private async ValueTask HandleControlAsync(RtmpMessage message, CancellationToken cancellationToken)
    {
        switch (message.Type)
        {
            case RtmpMessageType.UserControl:
                var controlEvent = UserControlEvent.Parse(message.Span);
                if (controlEvent.EventType == UserControlEventType.PingRequest)
                {
                    await _output.SendUserControlAsync(UserControlEvent.PingResponse(controlEvent.Value), cancellationToken).ConfigureAwait(false);
                }

                break;
            case RtmpMessageType.WindowAcknowledgementSize:
                var window = ProtocolControl.ReadUInt32(message.Span);
                if (window > 0)
                {
                    _ackWindow = window;
                }

                break;
            case RtmpMessageType.SetPeerBandwidth:
                // §5.4.5: answered with Window Acknowledgement Size when it differs from the last one sent.
                var (size, _) = ProtocolControl.ReadSetPeerBandwidth(message.Span);
                if (size > 0 && size != _lastWindowSent)
                {
                    _lastWindowSent = size;
                    await _output.SendControlAsync(RtmpMessageType.WindowAcknowledgementSize, ProtocolControl.WindowAcknowledgementSize(size), cancellationToken).ConfigureAwait(false);
                }

                break;
        }

        if (_ackWindow > 0 && _bytesReceived - _lastAckAt >= _ackWindow)
        {
            _lastAckAt = _bytesReceived;
            await _output.SendControlAsync(RtmpMessageType.Acknowledgement, ProtocolControl.Acknowledgement(unchecked((uint)_bytesReceived)), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Bytes received so far (handshake included), as counted for acknowledgements.</summary>
    public long BytesReceived => _bytesReceived;

    internal RtmpOutput Output => _output;

    public async ValueTask DisposeAsync()
    {
        _reader.Dispose();
        await _transport.Output.CompleteAsync().ConfigureAwait(false);
        await _transport.Input.CompleteAsync().ConfigureAwait(false);
        _output.Dispose();
    }
}
