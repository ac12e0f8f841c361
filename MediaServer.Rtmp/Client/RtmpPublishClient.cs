using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using MediaServer.Core.Amf;
using MediaServer.Core.Flv;
using MediaServer.Core.Media;
using MediaServer.Rtmp.Messages;

namespace MediaServer.Rtmp.Client;

/// <summary>
/// A long-running publish to another RTMP server (YouTube, Twitch, Facebook over RTMPS, nginx-rtmp, us):
/// connect over TCP or TLS, handshake, the encoder command flow, then <see cref="MediaFrame"/>s written as
/// FLV tag bodies.
/// </summary>
/// <remarks>
/// Command flow as ffmpeg and OBS send it: connect (app, tcUrl) → Set Chunk Size → releaseStream, FCPublish,
/// createStream → publish(key, "live") → wait for <c>NetStream.Publish.Start</c>. An <c>_error</c> or an
/// error-level onStatus (<c>NetStream.Publish.BadName</c>, ...) fails with <see cref="RtmpProtocolError.Rejected"/>
/// and the server's code and description. After the start a background read loop answers pings, acknowledges
/// the server's window and watches for an error status or the server closing (<see cref="Completion"/>).
/// Writes: one writer, each write awaited before the next; steady state allocates nothing per frame.
/// </remarks>
public sealed class RtmpPublishClient : IAsyncDisposable
{
    // "@setDataFrame" as an AMF0 string: the handler a publisher puts before onMetaData so the server
    // stores it for players (ffmpeg, OBS). The hub carries the metadata without it.
    private static readonly byte[] SetDataFramePrefix = [0x02, 0x00, 0x0D, .. "@setDataFrame"u8];
    private static readonly byte[] OnMetaDataString = [0x02, 0x00, 0x0A, .. "onMetaData"u8];

    private readonly RtmpClientConnection _connection;
    private readonly IAsyncDisposable? _stream;
    private readonly CancellationTokenSource _readCts = new();
    private readonly ArrayBufferWriter<byte> _body = new(64 * 1024);
    private uint _streamId;
    private Task _readLoop = Task.CompletedTask;

    // Timeline: relative to the first media frame; a discontinuity continues from the last written timestamp.
    private bool _haveBase;
    private long _base;
    private long _lastRelative;

    private RtmpPublishClient(RtmpClientConnection connection, IAsyncDisposable? stream)
    {
        _connection = connection;
        _stream = stream;
    }

    /// <summary>The server this client publishes to (without the key).</summary>
    public RtmpPublishTarget? Target { get; private set; }

    /// <summary>Completes when the server closes the connection or sends an error status; faulted with the reason.</summary>
    public Task Completion => _readLoop;

    /// <summary>Frames written.</summary>
    public long FramesWritten { get; private set; }

    /// <summary>Connects over TCP (or TLS for <c>rtmps://</c>) and publishes; throws on failure, never hangs past the timeouts.</summary>
    /// <exception cref="RtmpProtocolException">Refused, timed out, or the server broke the protocol.</exception>
    /// <exception cref="SocketException">The host could not be resolved or reached.</exception>
    /// <exception cref="System.Security.Authentication.AuthenticationException">The TLS certificate was not accepted.</exception>
    public static async Task<RtmpPublishClient> ConnectAsync(RtmpPublishTarget target, RtmpClientOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(options);
        var (pipe, stream) = await RtmpClientTransport.ConnectAsync(target, options, cancellationToken).ConfigureAwait(false);
        try
        {
            return await StartAsync(pipe, target, options, stream, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Publishes over an existing transport (tests drive it through in-memory pipes).</summary>
    public static Task<RtmpPublishClient> StartAsync(IDuplexPipe transport, RtmpPublishTarget target, RtmpClientOptions options, CancellationToken cancellationToken) =>
        StartAsync(transport, target, options, null, cancellationToken);

    private static async Task<RtmpPublishClient> StartAsync(IDuplexPipe transport, RtmpPublishTarget target, RtmpClientOptions options, IAsyncDisposable? stream, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        var client = new RtmpPublishClient(new RtmpClientConnection(transport), stream) { Target = target };
        try
        {
            await client.PublishAsync(target, options, cancellationToken).ConfigureAwait(false);
            return client;
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task PublishAsync(RtmpPublishTarget target, RtmpClientOptions options, CancellationToken cancellationToken)
    {
        var connection = _connection;
        await WithTimeoutAsync(options.HandshakeTimeout, "the RTMP handshake", ct => connection.HandshakeAsync(ct), cancellationToken).ConfigureAwait(false);
        await WithTimeoutAsync(options.CommandTimeout, "connect", ct => connection.ConnectAsync(target.App, target.TcUrl, ct, options.FlashVersion), cancellationToken).ConfigureAwait(false);
        await connection.SetChunkSizeAsync(options.ChunkSize, cancellationToken).ConfigureAwait(false);

        // releaseStream and FCPublish are not awaited individually (servers answer _result, _error or nothing).
        await connection.SendCommandAsync(0, "releaseStream", connection.NextTransactionId(), null, [target.StreamKey], cancellationToken).ConfigureAwait(false);
        await connection.SendCommandAsync(0, "FCPublish", connection.NextTransactionId(), null, [target.StreamKey], cancellationToken).ConfigureAwait(false);
        var created = await WithTimeoutAsync(options.CommandTimeout, "createStream", ct => connection.CallAsync("createStream", null, [], ct), cancellationToken).ConfigureAwait(false);
        _streamId = created.Arguments.Length > 0 && created.Arguments[0] is double id && id >= 0 && id <= uint.MaxValue
            ? (uint)id
            : throw new RtmpProtocolException(RtmpProtocolError.UnexpectedResponse, "createStream returned no stream id.");

        await connection.SendCommandAsync(_streamId, "publish", 0, null, [target.StreamKey, "live"], cancellationToken).ConfigureAwait(false);
        var status = await WithTimeoutAsync(options.CommandTimeout, "publish", ct => connection.WaitForCommandAsync(IsPublishAnswer, ct), cancellationToken).ConfigureAwait(false);
        var info = status.GetObjectArgument(0);
        if (status.Name != "onStatus" || info is null || !info.TryGetString("code", out var code) || code != "NetStream.Publish.Start")
        {
            throw new RtmpProtocolException(RtmpProtocolError.Rejected, $"publish refused by the server: {RtmpClientConnection.DescribeStatus(info)}");
        }

        _readLoop = Task.Run(() => ReadLoopAsync(_readCts.Token), CancellationToken.None);
    }

    // NetStream.Publish.Start (or any onStatus for our stream), or an _error for a command we sent.
    private static bool IsPublishAnswer(RtmpCommand command) =>
        command.Name == "_error" || (command.Name == "onStatus" && command.GetObjectArgument(0) is { } info &&
            info.TryGetString("code", out var code) && code.StartsWith("NetStream.Publish.", StringComparison.Ordinal)) ||
        (command.Name == "onStatus" && command.GetObjectArgument(0) is { } i && i.TryGetString("level", out var level) && level == "error");

    private static async Task<T> WithTimeoutAsync<T>(TimeSpan timeout, string what, Func<CancellationToken, Task<T>> step, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            return await step(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new RtmpProtocolException(RtmpProtocolError.CommandTimeout, $"No answer to {what} within {timeout.TotalSeconds:0.#} s.");
        }
    }

    private static Task<bool> WithTimeoutAsync(TimeSpan timeout, string what, Func<CancellationToken, Task> step, CancellationToken cancellationToken) =>
        WithTimeoutAsync(timeout, what, async ct =>
        {
            await step(ct).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    private async Task ReadLoopAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var message = await _connection.ReadMessageAsync(cancellationToken).ConfigureAwait(false)
                ?? throw new RtmpProtocolException(RtmpProtocolError.ConnectionClosed, "The server closed the connection.");
            try
            {
                if (message.Type is RtmpMessageType.CommandAmf0 or RtmpMessageType.CommandAmf3)
                {
                    var command = RtmpCommand.Parse(message.Span, message.Type == RtmpMessageType.CommandAmf3);
                    if (command.Name == "onStatus" && command.GetObjectArgument(0) is { } info &&
                        info.TryGetString("level", out var level) && level == "error")
                    {
                        throw new RtmpProtocolException(RtmpProtocolError.Rejected, $"The server stopped the publish: {RtmpClientConnection.DescribeStatus(info)}");
                    }
                }
            }
            catch (AmfException ex)
            {
                throw new RtmpProtocolException(RtmpProtocolError.InvalidCommand, $"Malformed command from the server: {ex.Message}", ex);
            }
            finally
            {
                message.Payload.Release();
            }
        }
    }

    /// <summary>
    /// Writes one frame as an audio, video or data message. Timestamps are relative to the first media frame
    /// (32-bit, wrapping); configurations and metadata before it go out at 0. The caller keeps its reference
    /// on the payload and awaits each write before the next.
    /// </summary>
    public ValueTask WriteAsync(in MediaFrame frame, CancellationToken cancellationToken)
    {
        var relative = NextTimestamp(frame);
        _body.ResetWrittenCount();
        int chunkStream;
        RtmpMessageType type;
        switch (frame.Kind)
        {
            case MediaKind.Video:
                chunkStream = RtmpClientConnection.VideoChunkStream;
                type = RtmpMessageType.Video;
                break;
            case MediaKind.Audio:
                chunkStream = RtmpClientConnection.AudioChunkStream;
                type = RtmpMessageType.Audio;
                break;
            default:
                chunkStream = RtmpClientConnection.DataChunkStream;
                type = RtmpMessageType.DataAmf0;
                if (frame.Span.StartsWith(OnMetaDataString))
                {
                    _body.Write(SetDataFramePrefix);
                }

                break;
        }

        FlvMuxer.WriteTagBody(frame, _body);
        FramesWritten++;
        return _connection.Output.SendAsync(chunkStream, type, unchecked((uint)relative), _streamId, _body.WrittenMemory, cancellationToken);
    }

    private long NextTimestamp(in MediaFrame frame)
    {
        var media = frame.Kind != MediaKind.Data && !frame.IsConfig;
        if (!_haveBase)
        {
            if (!media)
            {
                return 0;
            }

            _haveBase = true;
            _base = frame.Timestamp;
        }
        else if ((frame.Flags & FrameFlags.Discontinuity) != 0)
        {
            // A new publisher upstream: its clock starts elsewhere. Continue our timeline just after the last frame.
            _base = frame.Timestamp - (_lastRelative + 1);
        }

        var relative = Math.Max(0, frame.Timestamp - _base);
        if (media)
        {
            _lastRelative = Math.Max(_lastRelative, relative);
        }

        return relative;
    }

    /// <summary>Ends the publish politely (FCUnpublish, deleteStream), bounded by <paramref name="cancellationToken"/>.</summary>
    public async Task UnpublishAsync(CancellationToken cancellationToken)
    {
        if (Target is { } target)
        {
            await _connection.SendCommandAsync(0, "FCUnpublish", _connection.NextTransactionId(), null, [target.StreamKey], cancellationToken).ConfigureAwait(false);
        }

        await _connection.SendCommandAsync(0, "deleteStream", _connection.NextTransactionId(), null, [(double)_streamId], cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await _readCts.CancelAsync().ConfigureAwait(false);
        try
        {
            await _readLoop.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Its outcome was observed through Completion, or nobody asked.
        }

        await _connection.DisposeAsync().ConfigureAwait(false);
        if (_stream is not null)
        {
            await _stream.DisposeAsync().ConfigureAwait(false);
        }

        _readCts.Dispose();
    }

}
