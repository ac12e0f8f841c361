using System.Net;
using MediaServer.Core.Streams;
using MediaServer.Rtmp.Session;
using Microsoft.AspNetCore.Connections;

namespace MediaServer.Host.Connections;

/// <summary>
/// Hands each accepted RTMP (or RTMPS, after Kestrel's TLS middleware) connection to an RTMP session, within the
/// server's connection budgets (<see cref="RtmpConnectionLimits"/>): a connection over them is closed at once.
/// </summary>
internal sealed class RtmpConnectionHandler(
    StreamHub hub,
    IStreamResolver resolver,
    RtmpServerOptions options,
    RtmpConnectionLimits limits,
    IHostApplicationLifetime lifetime,
    ILoggerFactory loggerFactory) : ConnectionHandler
{
    // One log line per this long about refused connections, with the count since the last one (a flood must not flood the log).
    private static readonly TimeSpan RefusalLogInterval = TimeSpan.FromSeconds(10);

    private readonly ILogger _logger = loggerFactory.CreateLogger("MediaServer.Rtmp");
    private long _refusedSinceLog;
    private long _lastRefusalLog;

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var remote = connection.RemoteEndPoint?.ToString();
        var key = RtmpConnectionLimits.AddressKey((connection.RemoteEndPoint as IPEndPoint)?.Address);
        if (limits.TryAcquireConnection(key) is { } refusal)
        {
            LogRefusal(key, refusal);
            connection.Abort(new ConnectionAbortedException(refusal));
            return;
        }

        try
        {
            var session = new RtmpServerSession(connection.Transport, hub, resolver, options, _logger, remote, limits, key);

            // Not connection.ConnectionClosed: it fires as soon as the peer's FIN is read, possibly before the session
            // has read the messages that came before it (an encoder sends FCUnpublish/deleteStream and closes at once),
            // and a cancelled read drops them: the clean unpublish would look like a lost connection. The peer leaving
            // completes the transport's input instead, after everything it sent.
            await session.RunAsync(lifetime.ApplicationStopping);
            if (session.AbortTransport)
            {
                // A player that stopped reading: what is still queued for it would hold the socket open.
                connection.Abort(new ConnectionAbortedException("The player stopped reading."));
            }
        }
        finally
        {
            limits.ReleaseConnection(key);
        }
    }

    private void LogRefusal(string address, string reason)
    {
        var refused = Interlocked.Increment(ref _refusedSinceLog);
        var last = Interlocked.Read(ref _lastRefusalLog);
        var now = Environment.TickCount64;
        if ((last == 0 || now - last >= (long)RefusalLogInterval.TotalMilliseconds) && Interlocked.CompareExchange(ref _lastRefusalLog, now, last) == last)
        {
            Interlocked.Add(ref _refusedSinceLog, -refused);
            _logger.LogWarning("RTMP {Remote}: connection refused: {Reason} ({Refused} refused in the last {Seconds:0} s; next report in {Seconds:0} s at most)", address, reason, refused, RefusalLogInterval.TotalSeconds, RefusalLogInterval.TotalSeconds);
        }
    }
}
