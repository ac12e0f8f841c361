namespace MediaServer.Rtmp.Session;

/// <summary>Settings of the RTMP server sessions.</summary>
public sealed class RtmpServerOptions
{
    /// <summary>Time allowed for C0/C1/C2 (SPECS RTMP 1): a peer that stalls the handshake holds a socket for nothing.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Our outgoing chunk size, announced with Set Chunk Size after connect (4096 like SRS/nginx-rtmp).</summary>
    public int OutgoingChunkSize { get; set; } = 4096;

    /// <summary>Window Acknowledgement Size we announce, and our acknowledgement window until the peer sets one.</summary>
    public uint WindowAckSize { get; set; } = 2_500_000;

    /// <summary>Set Peer Bandwidth we announce (dynamic limit).</summary>
    public uint PeerBandwidth { get; set; } = 2_500_000;

    /// <summary>Largest incoming message. The 24-bit length field allows 16 MiB - 1; a 4K keyframe is a few MB.</summary>
    public int MaxIncomingMessageSize { get; set; } = 16 * 1024 * 1024;

    /// <summary>A publisher that sends nothing for this long is closed (a dead encoder must free its stream).
    /// Also applies to connections that have not started to play (a handshake followed by silence); players are
    /// exempt because their input may legitimately be quiet.</summary>
    public TimeSpan PublisherIdleTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>RTMP (and RTMPS) connections open at once, server-wide; more are closed as they are accepted.</summary>
    public int MaxConnections { get; set; } = 10_000;

    /// <summary>
    /// RTMP connections open at once from one address (IPv6: one /64). 100 fits a studio behind one NAT or a load test
    /// on loopback; more are closed as they are accepted.
    /// </summary>
    public int MaxConnectionsPerAddress { get; set; } = 100;

    /// <summary>RTMP players of one stream at once; more get <c>NetStream.Play.Failed</c>.</summary>
    public int MaxPlayersPerStream { get; set; } = 1000;

    /// <summary>RTMP players from one address (IPv6: one /64) at once; more get <c>NetStream.Play.Failed</c>.</summary>
    public int MaxPlayersPerAddress { get; set; } = 50;

    /// <summary>
    /// A player whose socket accepts no data for this long (it stopped reading) is disconnected, freeing its queue.
    /// </summary>
    public TimeSpan PlayerWriteTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Before <c>publish</c> or <c>play</c> is accepted, a connection may use only this many chunk streams (commands
    /// need two or three) ...
    /// </summary>
    public int PreSessionMaxChunkStreams { get; set; } = 8;

    /// <summary>... and hold only this many bytes of messages in reassembly (commands are a few hundred bytes).</summary>
    public int PreSessionMaxPendingBytes { get; set; } = 64 * 1024;
}
