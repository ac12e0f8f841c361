using MediaServer.Core.Streams;
using MediaServer.Rtmp.Session;
using Microsoft.AspNetCore.Connections;

namespace MediaServer.Host.Connections;

/// <summary>Hands each accepted RTMP (or RTMPS, after Kestrel's TLS middleware) connection to an RTMP session.</summary>
internal sealed class RtmpConnectionHandler(
    StreamHub hub,
    IStreamResolver resolver,
    RtmpServerOptions options,
    ILoggerFactory loggerFactory) : ConnectionHandler
{
    private readonly ILogger _logger = loggerFactory.CreateLogger("MediaServer.Rtmp");

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var remote = connection.RemoteEndPoint?.ToString();
        var session = new RtmpServerSession(connection.Transport, hub, resolver, options, _logger, remote);
        await session.RunAsync(connection.ConnectionClosed);
    }
}
