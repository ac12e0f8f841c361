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

    /// <summary>A publisher that sends nothing for this long is closed (a dead encoder must free its stream).</summary>
    public TimeSpan PublisherIdleTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
