using System.Buffers.Binary;
using MediaServer.Core.Flv;

namespace MediaServer.Rtmp.Messages;

/// <summary>One sub-message of an aggregate message: its type, its own timestamp, and where its body is.</summary>
public readonly record struct RtmpSubMessage(RtmpMessageType Type, uint Timestamp, int Offset, int Length);

/// <summary>
/// Aggregate messages (RTMP 1.0 spec §7.1.6, type 22), which servers relaying a stream send to carry several audio,
/// video and data messages in one. The body is a run of sub-messages laid out as FLV tags:
/// <code>
/// UI8 type | UI24 body length | UI24 timestamp | UI8 timestamp bits 24-31 | UI24 stream id | body | UI32 back pointer
/// </code>
/// The aggregate's message stream id overrides the sub-messages'. Its timestamp minus the first sub-message's is
/// the offset that puts every sub-message on the stream's timeline (<see cref="Timestamp"/>).
/// </summary>
public static class RtmpAggregate
{
    /// <summary>Size of a sub-message header.</summary>
    public const int HeaderLength = FlvFileReader.TagHeaderLength;

    /// <summary>Size of the back pointer after each sub-message body.</summary>
    public const int BackPointerLength = FlvFileReader.PreviousTagSizeLength;

    /// <summary>
    /// Reads the sub-message at <paramref name="offset"/> and moves past it; false at the end of the body. The back
    /// pointer is not checked, and may be missing after the last sub-message.
    /// </summary>
    /// <exception cref="FlvFormatException">A header or a body runs past the end of the aggregate.</exception>
    public static bool TryReadNext(ReadOnlySpan<byte> body, ref int offset, out RtmpSubMessage message)
    {
        message = default;
        var rest = body[offset..];
        if (rest.IsEmpty)
        {
            return false;
        }

        if (rest.Length < HeaderLength)
        {
            throw new FlvFormatException(FlvError.TruncatedHeader, "An aggregate message ends inside a sub-message header.");
        }

        var length = (rest[1] << 16) | (rest[2] << 8) | rest[3];
        if (length > rest.Length - HeaderLength)
        {
            throw new FlvFormatException(FlvError.TruncatedHeader, $"An aggregate sub-message says {length} bytes; {rest.Length - HeaderLength} are left.");
        }

        var timestamp = ((uint)rest[7] << 24) | (BinaryPrimitives.ReadUInt32BigEndian(rest[3..]) & 0xFFFFFF);
        message = new RtmpSubMessage((RtmpMessageType)rest[0], timestamp, offset + HeaderLength, length);
        offset = Math.Min(body.Length, offset + HeaderLength + length + BackPointerLength);
        return true;
    }

    /// <summary>A sub-message's timestamp on the stream's timeline (32-bit, wrapping like every RTMP timestamp).</summary>
    public static uint Timestamp(uint aggregateTimestamp, uint firstSubTimestamp, uint subTimestamp) =>
        unchecked(aggregateTimestamp + (subTimestamp - firstSubTimestamp));
}
