namespace MediaServer.Rtmp.Client;

/// <summary>Limits and policy of an outgoing publishing connection.</summary>
public sealed class RtmpClientOptions
{
    /// <summary>TCP connect (DNS included).</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>TLS handshake plus RTMP handshake.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Each command answer: connect, createStream, publish.</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Accept any server certificate on <c>rtmps://</c>. Off by default: the system's validation applies
    /// (chain, expiry, name = host). Only for tests and private servers with self-signed certificates.
    /// </summary>
    public bool AllowUntrustedCertificates { get; set; }

    /// <summary>
    /// Outgoing chunk size, announced with Set Chunk Size right after connect. 4096 as OBS and ffmpeg use:
    /// the default 128 costs a header every 128 bytes of video.
    /// </summary>
    public int ChunkSize { get; set; } = 4096;

    /// <summary>
    /// Resolves the target's host to the one address to connect to, and may refuse it by throwing (an outbound
    /// address policy). Null: the system resolver, any address. The address returned is the one connected to:
    /// nothing resolves the name again (no DNS rebinding between a check and the connect).
    /// </summary>
    public Func<string, int, CancellationToken, ValueTask<System.Net.IPEndPoint>>? ResolveEndpoint { get; set; }

    /// <summary>The <c>flashVer</c> sent in connect; services only log it.</summary>
    public string FlashVersion { get; set; } = "FMLE/3.0 (compatible; MediaServer)";
}
