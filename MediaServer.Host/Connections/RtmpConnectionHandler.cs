using MediaServer.Core.Streams;
using MediaServer.Rtmp.Session;
using Microsoft.AspNetCore.Connections;

namespace MediaServer.Host.Connections;

/// <summary>Hands each accepted RTMP (or RTMPS, after Kestrel's TLS middleware) connection to an RTMP session.</summary>
internal sealed class RtmpConnectionHandler(
    StreamHub hub,
    IStreamResolver resolver,
    RtmpServerOptions options,
    IHostApplicationLifetime lifetime,
    ILoggerFactory loggerFactory) : ConnectionHandler
{
    private readonly ILogger _logger = loggerFactory.CreateLogger("MediaServer.Rtmp");

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var remote = connection.RemoteEndPoint?.ToString();
        var session = new RtmpServerSession(connection.Transport, hub, resolver, options, _logger, remote);

        // Not connection.ConnectionClosed: it fires as soon as the peer's FIN is read, possibly before the session
        // has read the messages that came before it (an encoder sends FCUnpublish/deleteStream and closes at once),
        // and a cancelled read drops them: the clean unpublish would look like a lost connection. The peer leaving
        // completes the transport's input instead, after everything it sent.
        await session.RunAsync(lifetime.ApplicationStopping);
    }
}
