using System.Buffers;
using System.Buffers.Binary;

namespace MediaServer.Core.Codecs.H264;

/// <summary>
/// AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.3.3.1), the "avcC" carried by FLV/RTMP sequence headers.
/// </summary>
/// <remarks>
/// <code>
/// u8  configurationVersion = 1
/// u8  AVCProfileIndication
/// u8  profile_compatibility
/// u8  AVCLevelIndication
/// b6  reserved '111111'          u2 lengthSizeMinusOne   (0, 1 or 3)
/// b3  reserved '111'             u5 numOfSequenceParameterSets
///     { u16 sequenceParameterSetLength; sequenceParameterSetNALUnit }  × numOfSequenceParameterSets
/// u8  numOfPictureParameterSets
///     { u16 pictureParameterSetLength;  pictureParameterSetNALUnit }   × numOfPictureParameterSets
/// [high profiles: chroma_format, bit depths, SPS extensions — ignored when reading, not written]
/// </code>
/// Reserved bits are not checked when reading (some encoders write zeros) and written as ones.
/// Parsing allocates (copies of the parameter sets): it runs once per sequence header, not per frame.
/// </remarks>
public sealed class AvcDecoderConfigurationRecord
{
    /// <summary>Largest parameter set we accept. Real SPS/PPS are tens of bytes; 8 KiB bounds a hostile record.</summary>
    public const int MaxParameterSetLength = 8 * 1024;

    /// <summary>Most picture parameter sets we accept (the 8-bit count allows 255; H.264 allows 256 ids, encoders send 1).</summary>
    public const int MaxPictureParameterSets = 64;

    private const int FixedHeaderLength = 6;

    public AvcDecoderConfigurationRecord(
        byte profileIndication,
        byte profileCompatibility,
        byte levelIndication,
        int nalUnitLengthSize,
        IReadOnlyList<byte[]> sequenceParameterSets,
        IReadOnlyList<byte[]> pictureParameterSets)
    {
        if (nalUnitLengthSize is not (1 or 2 or 4))
        {
            throw new ArgumentOutOfRangeException(nameof(nalUnitLengthSize), "NAL unit length size must be 1, 2 or 4.");
        }

        ArgumentOutOfRangeException.ThrowIfGreaterThan(sequenceParameterSets.Count, 31);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pictureParameterSets.Count, MaxPictureParameterSets);
        ProfileIndication = profileIndication;
        ProfileCompatibility = profileCompatibility;
        LevelIndication = levelIndication;
        NalUnitLengthSize = nalUnitLengthSize;
        SequenceParameterSets = sequenceParameterSets;
        PictureParameterSets = pictureParameterSets;
    }

    public byte ProfileIndication { get; }

    public byte ProfileCompatibility { get; }

    public byte LevelIndication { get; }

    /// <summary>Size in bytes of the length prefix of each NAL unit in the media frames (lengthSizeMinusOne + 1).</summary>
    public int NalUnitLengthSize { get; }

    /// <summary>SPS NAL units (header byte included).</summary>
    public IReadOnlyList<byte[]> SequenceParameterSets { get; }

    /// <summary>PPS NAL units (header byte included).</summary>
    public IReadOnlyList<byte[]> PictureParameterSets { get; }

    /// <summary>Size of what <see cref="Write"/> writes.</summary>
    public int Length
    {
        get
        {
            var length = FixedHeaderLength + 1;
            foreach (var sps in SequenceParameterSets)
            {
                length += 2 + sps.Length;
            }

            foreach (var pps in PictureParameterSets)
            {
                length += 2 + pps.Length;
            }

            return length;
        }
    }

    /// <summary>Parses a record.</summary>
    /// <exception cref="CodecException">Truncated, wrong version, invalid length size, or a limit exceeded.</exception>
    public static AvcDecoderConfigurationRecord Parse(ReadOnlySpan<byte> data)
    {
        if (data.Length < FixedHeaderLength + 1)
        {
            CodecThrow.Throw(CodecError.Truncated, "AVC decoder configuration record shorter than its fixed header.");
        }

        if (data[0] != 1)
        {
            CodecThrow.Throw(CodecError.InvalidVersion, "AVC decoder configuration record version is not 1.");
        }

        var lengthSize = (data[4] & 0x03) + 1;
        if (lengthSize == 3)
        {
            CodecThrow.Throw(CodecError.InvalidValue, "AVC lengthSizeMinusOne of 2 is not allowed.");
        }

        var spsCount = data[5] & 0x1F; // 5 bits: at most 31, the field itself is the limit.
        var offset = FixedHeaderLength;
        var sps = ReadParameterSets(data, ref offset, spsCount);
        if (offset >= data.Length)
        {
            CodecThrow.Throw(CodecError.Truncated, "AVC decoder configuration record ends before the PPS count.");
        }

        var ppsCount = data[offset++];
        if (ppsCount > MaxPictureParameterSets)
        {
            CodecThrow.Throw(CodecError.TooMany, "Too many picture parameter sets in the AVC record.");
        }

        var pps = ReadParameterSets(data, ref offset, ppsCount);

        // Whatever follows (the high-profile extension) is ignored.
        return new AvcDecoderConfigurationRecord(data[1], data[2], data[3], lengthSize, sps, pps);
    }

    /// <summary>Writes the record (without the high-profile extension).</summary>
    public void Write(IBufferWriter<byte> output)
    {
        var length = Length;
        var span = output.GetSpan(length);
        span[0] = 1;
        span[1] = ProfileIndication;
        span[2] = ProfileCompatibility;
        span[3] = LevelIndication;
        span[4] = (byte)(0xFC | (NalUnitLengthSize - 1));
        span[5] = (byte)(0xE0 | SequenceParameterSets.Count);
        var offset = FixedHeaderLength;
        foreach (var sps in SequenceParameterSets)
        {
            offset = WriteParameterSet(span, offset, sps);
        }

        span[offset++] = (byte)PictureParameterSets.Count;
        foreach (var pps in PictureParameterSets)
        {
            offset = WriteParameterSet(span, offset, pps);
        }

        output.Advance(length);
    }

    private static int WriteParameterSet(Span<byte> span, int offset, byte[] set)
    {
        BinaryPrimitives.WriteUInt16BigEndian(span[offset..], checked((ushort)set.Length));
        set.CopyTo(span[(offset + 2)..]);
        return offset + 2 + set.Length;
    }

    private static byte[][] ReadParameterSets(ReadOnlySpan<byte> data, ref int offset, int count)
    {
        var sets = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            if (data.Length - offset < 2)
            {
                CodecThrow.Throw(CodecError.Truncated, "AVC record ends inside a parameter set length.");
            }

            var length = BinaryPrimitives.ReadUInt16BigEndian(data[offset..]);
            offset += 2;
            if (length == 0 || length > MaxParameterSetLength)
            {
                CodecThrow.Throw(CodecError.InvalidLength, "AVC parameter set length is zero or above the limit.");
            }

            if (data.Length - offset < length)
            {
                CodecThrow.Throw(CodecError.Truncated, "AVC parameter set longer than the record.");
            }

            sets[i] = data.Slice(offset, length).ToArray();
            offset += length;
        }

        return sets;
    }
}
