using System.Buffers;
using System.Buffers.Binary;

namespace MediaServer.Core.Flv;

/// <summary>
/// The FLV file header (FLV spec v10.1 §E.2).
/// </summary>
/// <remarks>
/// <code>
/// UI8[3] Signature "FLV"
/// UI8    Version (1)
/// UB[5]  reserved | UB[1] TypeFlagsAudio | UB[1] reserved | UB[1] TypeFlagsVideo
/// UI32   DataOffset (9: the header's own size)
/// </code>
/// followed by UI32 PreviousTagSize0 (0) before the first tag.
/// </remarks>
public readonly record struct FlvFileHeader(byte Version, bool HasAudio, bool HasVideo)
{
    /// <summary>Size of a version 1 header (its DataOffset).</summary>
    public const int Length = 9;

    /// <summary>Header plus PreviousTagSize0: where the first tag starts.</summary>
    public const int LengthWithPreviousTagSize = Length + FlvFileReader.PreviousTagSizeLength;
}

/// <summary>
/// One FLV file tag (FLV spec v10.1 §E.4.1). The body is a view over the reader's buffer: consume it (e.g. with
/// <see cref="FlvDemuxer.Demux"/> after copying a multi-segment body to a span) before advancing the source.
/// </summary>
public readonly struct FlvTag(FlvTagType type, uint timestamp, ReadOnlySequence<byte> body)
{
    public FlvTagType Type { get; } = type;

    /// <summary>32-bit timestamp in milliseconds (24 bits + 8 extended bits).</summary>
    public uint Timestamp { get; } = timestamp;

    public ReadOnlySequence<byte> Body { get; } = body;
}

/// <summary>
/// Framing of FLV files: the header, then tags each followed by its PreviousTagSize.
/// </summary>
/// <remarks>
/// <code>
/// UB[2] reserved | UB[1] Filter (encrypted) | UB[5] TagType (8 audio, 9 video, 18 script)
/// UI24  DataSize
/// UI24  Timestamp (ms, low 24 bits)
/// UI8   TimestampExtended (high 8 bits)
/// UI24  StreamID (always 0)
/// UI8[DataSize] tag body
/// UI32  PreviousTagSize (11 + DataSize)
/// </code>
/// Pure parsers in the pipelines style: <c>false</c> means "need more bytes" and leaves the reader where it was.
/// </remarks>
public static class FlvFileReader
{
    /// <summary>Size of a tag header.</summary>
    public const int TagHeaderLength = 11;

    /// <summary>Size of the PreviousTagSize field after every tag (and after the header).</summary>
    public const int PreviousTagSizeLength = 4;

    private const byte FilterBit = 0x20;
    private const byte TagTypeMask = 0x1F;

    /// <summary>
    /// Reads the file header and PreviousTagSize0, leaving the reader at the first tag.
    /// </summary>
    /// <exception cref="FlvFormatException">Not an FLV version 1 file, or an unreasonable DataOffset.</exception>
    public static bool TryReadHeader(ref SequenceReader<byte> reader, out FlvFileHeader header)
    {
        header = default;
        Span<byte> fixedPart = stackalloc byte[FlvFileHeader.Length];
        if (!reader.TryCopyTo(fixedPart))
        {
            return false;
        }

        if (fixedPart[0] != (byte)'F' || fixedPart[1] != (byte)'L' || fixedPart[2] != (byte)'V' || fixedPart[3] != 1)
        {
            FlvThrow.Format(FlvError.InvalidFileHeader);
        }

        var dataOffset = BinaryPrimitives.ReadUInt32BigEndian(fixedPart[5..]);
        if (dataOffset is < FlvFileHeader.Length or > FlvLimits.MaxFileHeaderLength)
        {
            FlvThrow.Format(FlvError.InvalidFileHeader);
        }

        if (reader.Remaining < dataOffset + PreviousTagSizeLength)
        {
            return false;
        }

        header = new FlvFileHeader(fixedPart[3], (fixedPart[4] & 0x04) != 0, (fixedPart[4] & 0x01) != 0);
        reader.Advance(dataOffset + PreviousTagSizeLength);
        return true;
    }

    /// <summary>
    /// Reads one tag and the PreviousTagSize after it. The PreviousTagSize value is not checked: writers get it
    /// wrong often enough and the DataSize already frames the tag.
    /// </summary>
    /// <exception cref="FlvFormatException">An encrypted (Filter) tag.</exception>
    public static bool TryReadTag(ref SequenceReader<byte> reader, out FlvTag tag)
    {
        tag = default;
        Span<byte> headerBytes = stackalloc byte[TagHeaderLength];
        if (!reader.TryCopyTo(headerBytes))
        {
            return false;
        }

        if ((headerBytes[0] & FilterBit) != 0)
        {
            FlvThrow.Format(FlvError.InvalidTagHeader);
        }

        // DataSize is UI24, so it is within FlvLimits.MaxTagBodyLength by construction.
        var dataSize = (headerBytes[1] << 16) | (headerBytes[2] << 8) | headerBytes[3];
        if (reader.Remaining < TagHeaderLength + dataSize + PreviousTagSizeLength)
        {
            return false;
        }

        var timestamp = (uint)((headerBytes[7] << 24) | (headerBytes[4] << 16) | (headerBytes[5] << 8) | headerBytes[6]);
        reader.Advance(TagHeaderLength);
        var body = reader.UnreadSequence.Slice(0, dataSize);
        reader.Advance(dataSize + PreviousTagSizeLength);
        tag = new FlvTag((FlvTagType)(headerBytes[0] & TagTypeMask), timestamp, body);
        return true;
    }
}
