using System.Buffers.Binary;

namespace MediaServer.Rtmp.Messages;

/// <summary>
/// Protocol control message payloads (RTMP 1.0 spec §5.4), sent on chunk stream 2, message stream 0.
/// </summary>
/// <remarks>
/// <code>
/// Set Chunk Size (1):          | 0 | chunk size (31 bits) |
/// Abort Message (2):           | chunk stream id (32) |
/// Acknowledgement (3):         | sequence number (32) = bytes received so far, wraps |
/// Window Ack Size (5):         | window size (32) |
/// Set Peer Bandwidth (6):      | window size (32) | limit type (8): 0 hard, 1 soft, 2 dynamic |
/// </code>
/// All big-endian.
/// </remarks>
public static class ProtocolControl
{
    /// <summary>Chunk stream id reserved for protocol control messages (§5.4).</summary>
    public const int ChunkStreamId = 2;

    public static byte[] SetChunkSize(int chunkSize) => UInt32Payload((uint)chunkSize & 0x7FFFFFFF);

    public static byte[] Abort(int chunkStreamId) => UInt32Payload((uint)chunkStreamId);

    public static byte[] Acknowledgement(uint sequenceNumber) => UInt32Payload(sequenceNumber);

    public static byte[] WindowAcknowledgementSize(uint windowSize) => UInt32Payload(windowSize);

    public static byte[] SetPeerBandwidth(uint windowSize, PeerBandwidthLimitType limitType)
    {
        var payload = new byte[5];
        BinaryPrimitives.WriteUInt32BigEndian(payload, windowSize);
        payload[4] = (byte)limitType;
        return payload;
    }

    /// <summary>Reads the 32-bit value of Acknowledgement / Window Ack Size / Abort payloads.</summary>
    public static uint ReadUInt32(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 4)
        {
            RtmpProtocolException.Throw(RtmpProtocolError.InvalidControlMessage, "Protocol control message shorter than 4 bytes.");
        }

        return BinaryPrimitives.ReadUInt32BigEndian(payload);
    }

    /// <summary>Reads a Set Peer Bandwidth payload.</summary>
    public static (uint WindowSize, PeerBandwidthLimitType LimitType) ReadSetPeerBandwidth(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 5)
        {
            RtmpProtocolException.Throw(RtmpProtocolError.InvalidControlMessage, "Set Peer Bandwidth shorter than 5 bytes.");
        }

        return (BinaryPrimitives.ReadUInt32BigEndian(payload), (PeerBandwidthLimitType)payload[4]);
    }

    private static byte[] UInt32Payload(uint value)
    {
        var payload = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(payload, value);
        return payload;
    }
}

/// <summary>
/// A User Control Message event (RTMP 1.0 spec §6.2, §7.1.7), message type 4 on chunk stream 2.
/// </summary>
/// <remarks>
/// <code>
/// | event type (16) | event data: stream id or timestamp (32) [| buffer length ms (32), SetBufferLength only] |
/// </code>
/// </remarks>
public readonly record struct UserControlEvent(UserControlEventType EventType, uint Value, uint BufferLength = 0)
{
    public static UserControlEvent StreamBegin(uint streamId) => new(UserControlEventType.StreamBegin, streamId);

    public static UserControlEvent StreamEof(uint streamId) => new(UserControlEventType.StreamEof, streamId);

    public static UserControlEvent PingRequest(uint timestamp) => new(UserControlEventType.PingRequest, timestamp);

    public static UserControlEvent PingResponse(uint timestamp) => new(UserControlEventType.PingResponse, timestamp);

    public static UserControlEvent SetBufferLength(uint streamId, uint milliseconds) => new(UserControlEventType.SetBufferLength, streamId, milliseconds);

    public byte[] ToPayload()
    {
        var payload = new byte[EventType == UserControlEventType.SetBufferLength ? 10 : 6];
        BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)EventType);
        BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(2), Value);
        if (EventType == UserControlEventType.SetBufferLength)
        {
            BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(6), BufferLength);
        }

        return payload;
    }

    /// <summary>Parses a user control payload. Unknown event types are returned as-is (callers skip them).</summary>
    public static UserControlEvent Parse(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 6)
        {
            RtmpProtocolException.Throw(RtmpProtocolError.InvalidControlMessage, "User Control message shorter than 6 bytes.");
        }

        var type = (UserControlEventType)BinaryPrimitives.ReadUInt16BigEndian(payload);
        var value = BinaryPrimitives.ReadUInt32BigEndian(payload[2..]);
        uint buffer = 0;
        if (type == UserControlEventType.SetBufferLength)
        {
            if (payload.Length < 10)
            {
                RtmpProtocolException.Throw(RtmpProtocolError.InvalidControlMessage, "SetBufferLength shorter than 10 bytes.");
            }

            buffer = BinaryPrimitives.ReadUInt32BigEndian(payload[6..]);
        }

        return new UserControlEvent(type, value, buffer);
    }
}
