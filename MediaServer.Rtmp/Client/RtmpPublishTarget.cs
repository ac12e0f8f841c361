using System.Globalization;

namespace MediaServer.Rtmp.Client;

/// <summary>
/// Where a publishing client connects: a service's server URL plus a stream key, split the way the
/// services expect (YouTube, Twitch, Facebook, and every OBS "custom server").
/// </summary>
/// <remarks>
/// <code>
/// rtmp[s]://host[:port]/app[/instance][?query]  +  stream key
///   TCP or TLS  host:port (default 1935 for rtmp, 443 for rtmps)
///   connect     app = the whole path without its leading/trailing slashes, query kept ("live2", "app/inst")
///               tcUrl = scheme://host[:port]/app, exactly as the user wrote the server URL
///   publish     the stream key, as given
/// </code>
/// The stream key is a credential: <see cref="ToString"/> leaves it out.
/// </remarks>
public sealed class RtmpPublishTarget
{
    public const int DefaultRtmpPort = 1935;
    public const int DefaultRtmpsPort = 443;

    private RtmpPublishTarget(bool useTls, string host, int port, string app, string tcUrl, string streamKey)
    {
        UseTls = useTls;
        Host = host;
        Port = port;
        App = app;
        TcUrl = tcUrl;
        StreamKey = streamKey;
    }

    /// <summary>True for <c>rtmps://</c>: TLS with SNI = <see cref="Host"/>.</summary>
    public bool UseTls { get; }

    /// <summary>Host name or IP address (without IPv6 brackets).</summary>
    public string Host { get; }

    public int Port { get; }

    /// <summary>The <c>app</c> of the connect command.</summary>
    public string App { get; }

    /// <summary>The <c>tcUrl</c> of the connect command.</summary>
    public string TcUrl { get; }

    /// <summary>The publishing name (stream key).</summary>
    public string StreamKey { get; }

    /// <summary>Splits a server URL and a stream key; <see cref="FormatException"/> when the URL is not usable.</summary>
    public static RtmpPublishTarget Parse(string serverUrl, string streamKey)
    {
        ArgumentNullException.ThrowIfNull(serverUrl);
        if (string.IsNullOrEmpty(streamKey))
        {
            throw new FormatException("The stream key is empty.");
        }

        if (!Uri.TryCreate(serverUrl.Trim(), UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw new FormatException("The server URL is not an absolute URL.");
        }

        var tls = uri.Scheme switch
        {
            "rtmp" => false,
            "rtmps" => true,
            _ => throw new FormatException($"Unsupported scheme '{uri.Scheme}': use rtmp:// or rtmps://."),
        };

        var app = uri.AbsolutePath.Trim('/');
        if (app.Length == 0)
        {
            throw new FormatException("The server URL has no application path (rtmp://host/app).");
        }

        app = Uri.UnescapeDataString(app) + uri.Query;
        var port = uri.IsDefaultPort || uri.Port < 0 ? (tls ? DefaultRtmpsPort : DefaultRtmpPort) : uri.Port;
        var authority = uri.IsDefaultPort || uri.Port < 0 ? uri.Host : string.Create(CultureInfo.InvariantCulture, $"{uri.Host}:{uri.Port}");
        var tcUrl = $"{uri.Scheme}://{authority}/{app}";
        return new RtmpPublishTarget(tls, uri.IdnHost.Trim('[', ']'), port, app, tcUrl, streamKey);
    }

    /// <summary>The server URL without the stream key (safe to log).</summary>
    public override string ToString() => TcUrl;
}
