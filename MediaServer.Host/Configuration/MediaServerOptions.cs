using System.Globalization;

namespace MediaServer.Host.Configuration;

/// <summary>The <c>MediaServer</c> configuration section (appsettings.json, environment, command line).</summary>
public sealed class MediaServerOptions
{
    public const string SectionName = "MediaServer";

    /// <summary>Folder for the database, recordings and other state. Relative paths are relative to the working directory.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>
    /// Base URL used to build the URLs the server hands out (HLS, RTMP ingest host). When empty, the server
    /// uses <c>http://localhost:{Http:Port}</c>.
    /// </summary>
    public string? PublicBaseUrl { get; set; }

    /// <summary>Address the listeners bind to: <c>*</c> (all interfaces, default), <c>127.0.0.1</c>, <c>::1</c>, ...</summary>
    public string BindAddress { get; set; } = "*";

    public RtmpListenerOptions Rtmp { get; set; } = new();

    public HttpListenerOptions Http { get; set; } = new();

    public RtmpsListenerOptions Rtmps { get; set; } = new();

    public RestreamOptions Restream { get; set; } = new();

    public NetworkOptions Network { get; set; } = new();

    public MetricsOptions Metrics { get; set; } = new();

    /// <summary>The public base URL without a trailing slash.</summary>
    public Uri GetPublicBaseUri()
    {
        var text = string.IsNullOrWhiteSpace(PublicBaseUrl)
            ? string.Create(CultureInfo.InvariantCulture, $"http://localhost:{Http.Port}")
            : PublicBaseUrl.TrimEnd('/');
        return new Uri(text, UriKind.Absolute);
    }
}

/// <summary>The RTMP listener. The same section binds <c>MediaServer.Rtmp.Session.RtmpServerOptions</c> (timeouts, sizes).</summary>
public sealed class RtmpListenerOptions
{
    /// <summary>RTMP port (default 1935, the IANA-registered RTMP port).</summary>
    public int Port { get; set; } = 1935;
}

/// <summary>RTMP over TLS. Enabled when <see cref="Port"/> is set and a certificate is configured.</summary>
public sealed class RtmpsListenerOptions
{
    /// <summary>RTMPS port; 0 (default) disables the listener. 443 is conventional for public servers.</summary>
    public int Port { get; set; }

    /// <summary>Certificate file: a PFX/PKCS#12 file, or a PEM certificate (with <see cref="KeyPath"/>).</summary>
    public string? CertificatePath { get; set; }

    /// <summary>PEM private key file, when <see cref="CertificatePath"/> is a PEM certificate.</summary>
    public string? KeyPath { get; set; }

    /// <summary>Password of the PFX file or of an encrypted PEM key.</summary>
    public string? Password { get; set; }
}

public sealed class HttpListenerOptions
{
    /// <summary>HTTP port for the API and HLS (default 8080).</summary>
    public int Port { get; set; } = 8080;
}

/// <summary>Pushing live streams on to other RTMP servers (a livestream's <c>restream</c> targets).</summary>
public sealed class RestreamOptions
{
    /// <summary>
    /// Accept any certificate from <c>rtmps://</c> targets. Default false: the system's certificate validation
    /// applies (YouTube, Twitch and Facebook have valid certificates). Only for tests and self-signed private servers.
    /// </summary>
    public bool AllowUntrustedCertificates { get; set; }

    /// <summary>
    /// When not empty, only these target hosts (exact, case-insensitive) are contacted; others get status
    /// <c>error</c>. Empty (default) allows any host. Lets an operator keep a server's egress in bounds.
    /// </summary>
    public List<string> AllowedHosts { get; set; } = [];

    /// <summary>
    /// Allow targets on loopback and private networks (RFC 1918, ULA fc00::/7, CGNAT 100.64/10). Default false: a
    /// target is resolved once and refused when its address is loopback, private, link-local (169.254.169.254,
    /// fe80::/10) or not unicast, and the server connects to the address it checked. Link-local, non-unicast and
    /// this server's own listeners stay refused even when true. See docs/SECURITY.md.
    /// </summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>Seconds for TCP connect, for the TLS + RTMP handshake, and for each command answer.</summary>
    public int ConnectTimeoutSeconds { get; set; } = 10;

    /// <summary>Seconds one write may stay blocked (a target that stopped reading) before the connection is dropped and retried.</summary>
    public int WriteTimeoutSeconds { get; set; } = 20;

    /// <summary>Upper bound of the reconnect backoff (1 s, 2 s, 4 s ... this), with ±20 % jitter.</summary>
    public int MaxBackoffSeconds { get; set; } = 30;
}

public sealed class NetworkOptions
{
    /// <summary>
    /// Run socket completions and connection code on the socket engine's threads instead of handing each one to the
    /// thread pool (Kestrel's <c>UnsafePreferInlineScheduling</c> with <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS</c>):
    /// an RTMP message is read, demuxed and segmented on the thread that saw it arrive. Work that blocks (the database)
    /// moves to the thread pool first. Default on; off restores .NET's defaults.
    /// </summary>
    public bool InlineIo { get; set; } = true;

    /// <summary>
    /// Socket engine threads with <see cref="InlineIo"/> (each runs its connections' reads, remuxing and HLS requests).
    /// Unset: half the processors, at least one. One thread carries a few hundred real-time streams; fewer threads
    /// batch more events per wake-up (20 publishers on 2 cores: 1 thread used 15 % less CPU than 2).
    /// </summary>
    public int? IoThreads { get; set; }

    /// <summary>The socket engine threads to use: <see cref="IoThreads"/> or half the processors, at least one.</summary>
    public int EffectiveIoThreads => IoThreads is { } threads && threads > 0 ? threads : Math.Max(1, Environment.ProcessorCount / 2);
}

/// <summary>The Prometheus endpoint, <c>GET /metrics</c> on the HTTP port.</summary>
public sealed class MetricsOptions
{
    /// <summary>Serve <c>/metrics</c> (default true). Its labels never carry stream keys or remote addresses.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>When set, <c>/metrics</c> answers only requests with <c>Authorization: Bearer {this}</c> (else 401).</summary>
    public string? BearerToken { get; set; }
}
