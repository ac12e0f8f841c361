namespace MediaServer.Rtmp.Session;

/// <summary>
/// Acknowledgement accounting of one connection (RTMP 1.0 §5.4.3-§5.4.5): bytes received (64-bit here, sent as 32
/// bits, wrapping after 4 GiB), the window after which an Acknowledgement is due, and the window last announced to
/// the peer (a Set Peer Bandwidth is answered with Window Acknowledgement Size only when it differs).
/// </summary>
internal sealed class AcknowledgementWindow
{
    private long _lastAcknowledgedAt;
    private uint _announced;

    public AcknowledgementWindow(uint window) => Window = window;

    /// <summary>Bytes received so far, handshake included.</summary>
    public long BytesReceived { get; private set; }

    /// <summary>The peer's Window Acknowledgement Size: an Acknowledgement is due after this many bytes.</summary>
    public uint Window { get; private set; }

    /// <summary>Counts bytes received (each read's consumed bytes).</summary>
    public void Received(long bytes) => BytesReceived += bytes;

    /// <summary>Counts bytes that are not acknowledged (the handshake): the first window starts after them, but the
    /// sequence numbers include them.</summary>
    public void ReceivedUnacknowledged(long bytes)
    {
        BytesReceived += bytes;
        _lastAcknowledgedAt = BytesReceived;
    }

    /// <summary>True, with the sequence number to send, when a window's worth arrived since the last Acknowledgement.</summary>
    public bool TryTakeAcknowledgement(out uint sequenceNumber)
    {
        sequenceNumber = unchecked((uint)BytesReceived);
        if (BytesReceived - _lastAcknowledgedAt < Window)
        {
            return false;
        }

        _lastAcknowledgedAt = BytesReceived;
        return true;
    }

    /// <summary>The peer set its Window Acknowledgement Size (0 is ignored).</summary>
    public void SetWindow(uint window)
    {
        if (window > 0)
        {
            Window = window;
        }
    }

    /// <summary>We announced a Window Acknowledgement Size of <paramref name="size"/>.</summary>
    public void Announced(uint size) => _announced = size;

    /// <summary>Whether a Set Peer Bandwidth of <paramref name="size"/> needs a Window Acknowledgement Size answer
    /// (it differs from the last one announced); if so it counts as announced.</summary>
    public bool ShouldAnnounce(uint size)
    {
        if (size == 0 || size == _announced)
        {
            return false;
        }

        _announced = size;
        return true;
    }
}
