using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using MediaServer.Core.Amf;
using MediaServer.Rtmp.Chunking;
using MediaServer.Rtmp.Handshake;
using MediaServer.Rtmp.Messages;
using MediaServer.Rtmp.Session;

namespace MediaServer.Tests.Rtmp.Infrastructure;

/// <summary>How the scripted server answers a publishing client.</summary>
internal enum FakeServerMode
{
    /// <summary>connect/createStream _result, publish NetStream.Publish.Start, then keeps reading.</summary>
    Accept,

    /// <summary>connect answered with _error NetConnection.Connect.Rejected.</summary>
    RejectConnect,

    /// <summary>publish answered with onStatus error NetStream.Publish.BadName.</summary>
    RejectPublish,

    /// <summary>Handshake, then never answers a command.</summary>
    SilentAfterHandshake,

    /// <summary>Like <see cref="Accept"/>, then stops reading after Publish.Start (the test drains the pipe itself).</summary>
    AcceptThenStop,
}

/// <summary>
/// A scripted RTMP server over in-memory pipes for client tests: it records what the client sent and answers
/// as <see cref="FakeServerMode"/> says. Test-only; not a server.
/// </summary>
internal sealed class FakeRtmpServer : IAsyncDisposable
{
    private readonly Pipe _toServer;
    private readonly Pipe _toClient;
    private readonly FakeServerMode _mode;
    private readonly CancellationTokenSource _cts = new();
    private readonly ChunkStreamReader _reader = new();
    private readonly RtmpOutput _output;

    public FakeRtmpServer(FakeServerMode mode, long pauseWriterThreshold = 65536)
    {
        _mode = mode;
        _toServer = new Pipe(new PipeOptions(pool: new ReusingMemoryPool(), pauseWriterThreshold: pauseWriterThreshold, resumeWriterThreshold: pauseWriterThreshold / 2, useSynchronizationContext: false));
        _toClient = new Pipe(new PipeOptions(useSynchronizationContext: false));
        _output = new RtmpOutput(_toClient.Writer);
        ClientTransport = new TestDuplexPipe(_toClient.Reader, _toServer.Writer);
        Run = Task.Run(() => RunAsync(_cts.Token));
    }

    public IDuplexPipe ClientTransport { get; }

    /// <summary>The bytes the client sends (read it yourself once <see cref="FakeServerMode.AcceptThenStop"/> has stopped).</summary>
    public PipeReader FromClient => _toServer.Reader;

    public Task Run { get; }

    /// <summary>Commands received, in order.</summary>
    public ConcurrentQueue<RtmpCommand> Commands { get; } = new();

    /// <summary>Every message received (type, timestamp, stream id, payload).</summary>
    public ConcurrentQueue<(RtmpMessageType Type, uint Timestamp, uint StreamId, byte[] Payload)> Messages { get; } = new();

    /// <summary>Sends a control message to the client.</summary>
    public ValueTask SendControlAsync(RtmpMessageType type, byte[] payload) => _output.SendControlAsync(type, payload, CancellationToken.None);

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var input = _toServer.Reader;
        var c1 = new byte[RtmpHandshake.PacketSize];
        var stage = 0; // 0: C0C1, 1: C2, 2: chunks
        while (!cancellationToken.IsCancellationRequested)
        {
            var result = await input.ReadAsync(cancellationToken);
            var (consumed, response, messages, newStage) = Parse(result.Buffer, c1, stage);
            stage = newStage;
            input.AdvanceTo(consumed, result.Buffer.End);
            if (response is not null)
            {
                await _output.SendRawAsync(response, cancellationToken);
            }

            foreach (var message in messages)
            {
                if (await HandleAsync(message))
                {
                    return;
                }
            }

            if (result.IsCompleted)
            {
                return;
            }
        }
    }

    private (SequencePosition Consumed, byte[]? Response, List<RtmpMessage> Messages, int Stage) Parse(in ReadOnlySequence<byte> buffer, byte[] c1, int stage)
    {
        var reader = new SequenceReader<byte>(buffer);
        byte[]? response = null;
        var messages = new List<RtmpMessage>();
        if (stage == 0 && RtmpHandshake.TryReadC0C1(ref reader, c1))
        {
            var writer = new ArrayBufferWriter<byte>();
            RtmpHandshake.WriteS0S1S2(c1, writer);
            response = writer.WrittenSpan.ToArray();
            stage = 1;
        }

        if (stage == 1 && RtmpHandshake.TrySkipPacket(ref reader))
        {
            stage = 2;
        }

        if (stage == 2)
        {
            while (_reader.TryRead(ref reader, out var message))
            {
                messages.Add(message);
            }
        }

        return (reader.Position, response, messages, stage);
    }

    /// <summary>Handles one message; true when the server should stop reading.</summary>
    private async Task<bool> HandleAsync(RtmpMessage message)
    {
        try
        {
            Messages.Enqueue((message.Type, message.Timestamp, message.MessageStreamId, message.Span.ToArray()));
            if (message.Type != RtmpMessageType.CommandAmf0)
            {
                return false;
            }

            var command = RtmpCommand.Parse(message.Span, amf3: false);
            Commands.Enqueue(command);
            if (_mode == FakeServerMode.SilentAfterHandshake)
            {
                return false;
            }

            switch (command.Name)
            {
                case "connect" when _mode == FakeServerMode.RejectConnect:
                    await SendAsync(0, RtmpCommand.Encode("_error", command.TransactionId, null, RtmpCommand.StatusInfo("error", "NetConnection.Connect.Rejected", "Invalid app name.")));
                    break;
                case "connect":
                    await SendAsync(0, RtmpCommand.Encode("_result", command.TransactionId, new AmfObject { { "fmsVer", "FMS/3,0,1,123" } }, RtmpCommand.StatusInfo("status", "NetConnection.Connect.Success", "ok")));
                    break;
                case "createStream":
                    await SendAsync(0, RtmpCommand.Encode("_result", command.TransactionId, null, 1d));
                    break;
                case "publish" when _mode == FakeServerMode.RejectPublish:
                    await SendAsync(1, RtmpCommand.Encode("onStatus", 0, null, RtmpCommand.StatusInfo("error", "NetStream.Publish.BadName", "Stream key is not valid.")));
                    break;
                case "publish":
                    await SendAsync(1, RtmpCommand.Encode("onStatus", 0, null, RtmpCommand.StatusInfo("status", "NetStream.Publish.Start", "Publishing.")));
                    return _mode == FakeServerMode.AcceptThenStop;
            }

            return false;
        }
        finally
        {
            message.Payload.Release();
        }
    }

    private ValueTask SendAsync(uint streamId, byte[] payload) => _output.SendCommandAsync(RtmpOutput.CommandChunkStream, streamId, payload, CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        try
        {
            await Run.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (OperationCanceledException)
        {
        }

        await _toClient.Writer.CompleteAsync();
        await _toServer.Reader.CompleteAsync();
        _reader.Dispose();
        _output.Dispose();
        _cts.Dispose();
    }
}
