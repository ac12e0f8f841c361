using System.Buffers;
using System.Buffers.Binary;
using MediaServer.Core.Media;

namespace MediaServer.Core.Flv;

/// <summary>
/// Writes FLV files (FLV spec v10.1 §E.2-§E.3): the header, then tags each followed by its PreviousTagSize.
/// See <see cref="FlvFileReader"/> for the layout.
/// </summary>
public static class FlvFileWriter
{
    /// <summary>Writes the 9-byte header and PreviousTagSize0.</summary>
    public static void WriteHeader(IBufferWriter<byte> output, bool hasAudio, bool hasVideo)
    {
        ArgumentNullException.ThrowIfNull(output);
        var span = output.GetSpan(FlvFileHeader.LengthWithPreviousTagSize);
        span[0] = (byte)'F';
        span[1] = (byte)'L';
        span[2] = (byte)'V';
        span[3] = 1;
        span[4] = (byte)((hasAudio ? 0x04 : 0) | (hasVideo ? 0x01 : 0));
        BinaryPrimitives.WriteUInt32BigEndian(span[5..], FlvFileHeader.Length);
        BinaryPrimitives.WriteUInt32BigEndian(span[FlvFileHeader.Length..], 0);
        output.Advance(FlvFileHeader.LengthWithPreviousTagSize);
    }

    /// <summary>Writes one tag with the given body.</summary>
    public static void WriteTag(IBufferWriter<byte> output, FlvTagType type, uint timestamp, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(output);
        WriteTagHeader(output, type, timestamp, body.Length);
        output.Write(body);
        WritePreviousTagSize(output, body.Length);
    }

    /// <summary>
    /// Writes a frame as one tag (body by <see cref="FlvMuxer"/>); the timestamp is the frame's DTS truncated to
    /// FLV's 32 bits.
    /// </summary>
    public static void WriteFrame(IBufferWriter<byte> output, in MediaFrame frame)
    {
        ArgumentNullException.ThrowIfNull(output);
        var bodyLength = FlvMuxer.GetTagBodyLength(frame);
        WriteTagHeader(output, FlvMuxer.GetTagType(frame), unchecked((uint)frame.Timestamp), bodyLength);
        FlvMuxer.WriteTagBody(frame, output);
        WritePreviousTagSize(output, bodyLength);
    }

    private static void WriteTagHeader(IBufferWriter<byte> output, FlvTagType type, uint timestamp, int bodyLength)
    {
        if (bodyLength > FlvLimits.MaxTagBodyLength)
        {
            throw new ArgumentOutOfRangeException(nameof(bodyLength), bodyLength, "An FLV tag body is at most 16 MiB - 1 (UI24 DataSize).");
        }

        var span = output.GetSpan(FlvFileReader.TagHeaderLength);
        span[0] = (byte)type;
        span[1] = (byte)(bodyLength >> 16);
        span[2] = (byte)(bodyLength >> 8);
        span[3] = (byte)bodyLength;
        span[4] = (byte)(timestamp >> 16);
        span[5] = (byte)(timestamp >> 8);
        span[6] = (byte)timestamp;
        span[7] = (byte)(timestamp >> 24);
        span[8] = 0;
        span[9] = 0;
        span[10] = 0;
        output.Advance(FlvFileReader.TagHeaderLength);
    }

    private static void WritePreviousTagSize(IBufferWriter<byte> output, int bodyLength)
    {
        var span = output.GetSpan(FlvFileReader.PreviousTagSizeLength);
        BinaryPrimitives.WriteUInt32BigEndian(span, (uint)(FlvFileReader.TagHeaderLength + bodyLength));
        output.Advance(FlvFileReader.PreviousTagSizeLength);
    }
}
