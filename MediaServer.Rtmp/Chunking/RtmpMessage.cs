using MediaServer.Core.Buffers;
using MediaServer.Rtmp.Messages;

namespace MediaServer.Rtmp.Chunking;

/// <summary>
/// One reassembled RTMP message (RTMP 1.0 spec §6.1): header fields and a pooled payload. Whoever holds the
/// message holds one reference on <see cref="Payload"/> and releases it once.
/// </summary>
public readonly struct RtmpMessage
{
    public RtmpMessage(int chunkStreamId, RtmpMessageType type, uint timestamp, uint messageStreamId, MediaBuffer payload)
    {
        ChunkStreamId = chunkStreamId;
        Type = type;
        Timestamp = timestamp;
        MessageStreamId = messageStreamId;
        Payload = payload;
    }

    public int ChunkStreamId { get; }

    public RtmpMessageType Type { get; }

    /// <summary>32-bit millisecond timestamp (wraps; extend with <see cref="Core.Media.TimestampExtender"/>).</summary>
    public uint Timestamp { get; }

    public uint MessageStreamId { get; }

    public MediaBuffer Payload { get; }

    public ReadOnlySpan<byte> Span => Payload.Memory.Span;
}
