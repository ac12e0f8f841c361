using MediaServer.Rtmp.Chunking;

namespace MediaServer.Rtmp.Client;

/// <summary>
/// A player: connect, createStream, play(name), then the server's messages one by one. Used by the load tool
/// to play from any RTMP server; shares the transport and connection code with <see cref="RtmpPublishClient"/>.
/// </summary>
/// <remarks>
/// Command flow as ffmpeg sends it: connect (app, tcUrl) → createStream → play(name, -2) → wait for an
/// onStatus (<c>NetStream.Play.Reset</c> or <c>.Start</c>); an error-level status fails with
/// <see cref="RtmpProtocolError.Rejected"/>. <see cref="RtmpPublishTarget.StreamKey"/> is the play name.
/// </remarks>
public sealed class RtmpPlayClient : IAsyncDisposable
{
    private readonly RtmpClientConnection _connection;
    private readonly Stream? _stream;

    private RtmpPlayClient(RtmpClientConnection connection, Stream? stream)
    {
        _connection = connection;
        _stream = stream;
    }

    /// <summary>Bytes received so far, handshake included.</summary>
    public long BytesReceived => _connection.BytesReceived;

    /// <summary>Connects over TCP (or TLS) and starts playing; throws on refusal or timeout.</summary>
    /// <exception cref="RtmpProtocolException">Refused, timed out, or the server broke the protocol.</exception>
    public static async Task<RtmpPlayClient> ConnectAsync(RtmpPublishTarget target, RtmpClientOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(options);
        var (pipe, stream) = await RtmpClientTransport.ConnectAsync(target, options, cancellationToken).ConfigureAwait(false);
        var client = new RtmpPlayClient(new RtmpClientConnection(pipe), stream);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.HandshakeTimeout + options.CommandTimeout);
            try
            {
                await client.PlayAsync(target, options, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new RtmpProtocolException(RtmpProtocolError.CommandTimeout, $"No answer to play from {target} in time.");
            }

            return client;
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task PlayAsync(RtmpPublishTarget target, RtmpClientOptions options, CancellationToken cancellationToken)
    {
        await _connection.HandshakeAsync(cancellationToken).ConfigureAwait(false);
        await _connection.ConnectAsync(target.App, target.TcUrl, cancellationToken, options.FlashVersion).ConfigureAwait(false);
        var streamId = await _connection.CreateStreamAsync(cancellationToken).ConfigureAwait(false);
        var info = await _connection.PlayAsync(streamId, target.StreamKey, cancellationToken).ConfigureAwait(false);
        if (info.TryGetString("level", out var level) && level == "error")
        {
            throw new RtmpProtocolException(RtmpProtocolError.Rejected, $"play refused by the server: {RtmpClientConnection.DescribeStatus(info)}");
        }
    }

    /// <summary>The next message (the caller releases its payload), or null when the server closed the connection.</summary>
    public ValueTask<RtmpMessage?> ReadMessageAsync(CancellationToken cancellationToken) => _connection.ReadMessageAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _connection.DisposeAsync().ConfigureAwait(false);
        if (_stream is not null)
        {
            await _stream.DisposeAsync().ConfigureAwait(false);
        }
    }
}
