using System.Buffers;
using System.Buffers.Binary;

namespace MediaServer.Core.Codecs.Hevc;

/// <summary>One NAL unit array of an HEVC record: all units of one type (VPS, SPS, PPS, SEI...).</summary>
public sealed record HevcNalArray(bool ArrayCompleteness, HevcNalUnitType NalUnitType, IReadOnlyList<byte[]> NalUnits);

/// <summary>
/// HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 §8.3.3.1), the "hvcC" of Enhanced RTMP sequence starts.
/// </summary>
/// <remarks>
/// <code>
/// u8  configurationVersion = 1
/// u2 general_profile_space  u1 general_tier_flag  u5 general_profile_idc
/// u32 general_profile_compatibility_flags
/// u48 general_constraint_indicator_flags
/// u8  general_level_idc
/// b4 '1111'    u12 min_spatial_segmentation_idc
/// b6 '111111'  u2  parallelismType
/// b6 '111111'  u2  chromaFormat
/// b5 '11111'   u3  bitDepthLumaMinus8
/// b5 '11111'   u3  bitDepthChromaMinus8
/// u16 avgFrameRate
/// u2 constantFrameRate  u3 numTemporalLayers  u1 temporalIdNested  u2 lengthSizeMinusOne
/// u8  numOfArrays
///     { u1 array_completeness  b1 reserved  u6 NAL_unit_type  u16 numNalus
///       { u16 nalUnitLength; nalUnit } × numNalus } × numOfArrays
/// </code>
/// </remarks>
public sealed class HevcDecoderConfigurationRecord
{
    /// <summary>Most arrays we accept: there are only a few parameter-set/SEI types worth an array.</summary>
    public const int MaxArrays = 16;

    /// <summary>Most NAL units per array we accept (HEVC allows 16 VPS, 16 SPS, 64 PPS ids).</summary>
    public const int MaxNalUnitsPerArray = 64;

    /// <summary>Largest NAL unit in a record. x265 puts its option string in a ~2.5 KiB SEI; 16 KiB leaves room.</summary>
    public const int MaxNalUnitLength = 16 * 1024;

    private const int FixedHeaderLength = 23;

    public byte GeneralProfileSpace { get; init; }

    public bool GeneralTierFlag { get; init; }

    public byte GeneralProfileIdc { get; init; }

    public uint GeneralProfileCompatibilityFlags { get; init; }

    /// <summary>48-bit field.</summary>
    public ulong GeneralConstraintIndicatorFlags { get; init; }

    public byte GeneralLevelIdc { get; init; }

    public ushort MinSpatialSegmentationIdc { get; init; }

    public byte ParallelismType { get; init; }

    public byte ChromaFormat { get; init; }

    public byte BitDepthLumaMinus8 { get; init; }

    public byte BitDepthChromaMinus8 { get; init; }

    public ushort AvgFrameRate { get; init; }

    public byte ConstantFrameRate { get; init; }

    public byte NumTemporalLayers { get; init; }

    public bool TemporalIdNested { get; init; }

    /// <summary>Size of the NAL unit length prefix in media frames (1, 2 or 4).</summary>
    public int NalUnitLengthSize { get; init; } = 4;

    public IReadOnlyList<HevcNalArray> Arrays { get; init; } = [];

    /// <summary>Size of what <see cref="Write"/> writes.</summary>
    public int Length
    {
        get
        {
            var length = FixedHeaderLength;
            foreach (var array in Arrays)
            {
                length += 3;
                foreach (var nal in array.NalUnits)
                {
                    length += 2 + nal.Length;
                }
            }

            return length;
        }
    }

    /// <summary>All NAL units of one type, in record order.</summary>
    public IEnumerable<byte[]> GetNalUnits(HevcNalUnitType type)
    {
        foreach (var array in Arrays)
        {
            if (array.NalUnitType != type)
            {
                continue;
            }

            foreach (var nal in array.NalUnits)
            {
                yield return nal;
            }
        }
    }

    /// <summary>
    /// The record for one VPS, SPS and PPS (ISO/IEC 14496-15 §8.3.3.1.2), as an encoder's Annex B stream gives them
    /// (NAL units with their 2-byte headers, no start codes).
    /// </summary>
    /// <remarks>
    /// <list type="bullet">
    /// <item>Profile space, tier, profile, compatibility and constraint flags and level: the SPS's general
    /// <c>profile_tier_level</c>. Chroma format and bit depths: the SPS.</item>
    /// <item>numTemporalLayers = sps_max_sub_layers_minus1 + 1; temporalIdNested = sps_temporal_id_nesting_flag.</item>
    /// <item>min_spatial_segmentation_idc 0 and parallelismType 0: the VUI is not read, and 0 claims nothing (no
    /// limit on slice/tile sizes, parallelism unknown), which is true of any stream. avgFrameRate 0 (unspecified) and
    /// constantFrameRate 0 (maybe not constant) likewise; ffmpeg writes the same for a stream whose VUI sets no
    /// bitstream restriction (x265's).</item>
    /// <item>lengthSizeMinusOne 3 (4-byte NAL lengths); three arrays VPS, SPS, PPS of one unit each, each marked
    /// complete, as the <c>hvc1</c> sample entry of Enhanced RTMP and fMP4 requires.</item>
    /// </list>
    /// </remarks>
    /// <exception cref="CodecException">A unit of the wrong type, empty or above <see cref="MaxNalUnitLength"/>, or an SPS that does not parse.</exception>
    public static HevcDecoderConfigurationRecord FromParameterSets(ReadOnlySpan<byte> vps, ReadOnlySpan<byte> sps, ReadOnlySpan<byte> pps)
    {
        CheckParameterSet(vps, HevcNalUnitType.VideoParameterSet);
        CheckParameterSet(sps, HevcNalUnitType.SequenceParameterSet);
        CheckParameterSet(pps, HevcNalUnitType.PictureParameterSet);
        var parsed = HevcSequenceParameterSet.Parse(sps);
        if (parsed.BitDepthLumaMinus8 > 7 || parsed.BitDepthChromaMinus8 > 7)
        {
            CodecThrow.Throw(CodecError.InvalidValue, "HEVC bit depth of 16 does not fit the record's 3-bit field.");
        }

        var ptl = parsed.ProfileTierLevel;
        return new HevcDecoderConfigurationRecord
        {
            GeneralProfileSpace = ptl.ProfileSpace,
            GeneralTierFlag = ptl.TierFlag,
            GeneralProfileIdc = ptl.ProfileIdc,
            GeneralProfileCompatibilityFlags = ptl.ProfileCompatibilityFlags,
            GeneralConstraintIndicatorFlags = ptl.ConstraintIndicatorFlags,
            GeneralLevelIdc = ptl.LevelIdc,
            ChromaFormat = (byte)parsed.ChromaFormatIdc,
            BitDepthLumaMinus8 = parsed.BitDepthLumaMinus8,
            BitDepthChromaMinus8 = parsed.BitDepthChromaMinus8,
            NumTemporalLayers = (byte)(parsed.MaxSubLayersMinus1 + 1),
            TemporalIdNested = parsed.TemporalIdNesting,
            NalUnitLengthSize = 4,
            Arrays =
            [
                new HevcNalArray(true, HevcNalUnitType.VideoParameterSet, [vps.ToArray()]),
                new HevcNalArray(true, HevcNalUnitType.SequenceParameterSet, [sps.ToArray()]),
                new HevcNalArray(true, HevcNalUnitType.PictureParameterSet, [pps.ToArray()]),
            ],
        };
    }

    private static void CheckParameterSet(ReadOnlySpan<byte> nalUnit, HevcNalUnitType type)
    {
        if (nalUnit.Length < 2 || nalUnit.Length > MaxNalUnitLength)
        {
            CodecThrow.Throw(CodecError.InvalidLength, "HEVC parameter set shorter than its NAL header or above the limit.");
        }

        if (HevcNal.GetType(nalUnit[0]) != type)
        {
            CodecThrow.Throw(CodecError.InvalidValue, "HEVC parameter set of the wrong NAL unit type.");
        }
    }

    /// <summary>Parses a record.</summary>
    /// <exception cref="CodecException">Truncated, wrong version, invalid length size, or a limit exceeded.</exception>
    public static HevcDecoderConfigurationRecord Parse(ReadOnlySpan<byte> data)
    {
        if (data.Length < FixedHeaderLength)
        {
            CodecThrow.Throw(CodecError.Truncated, "HEVC decoder configuration record shorter than its fixed header.");
        }

        if (data[0] != 1)
        {
            CodecThrow.Throw(CodecError.InvalidVersion, "HEVC decoder configuration record version is not 1.");
        }

        var lengthSize = (data[21] & 0x03) + 1;
        if (lengthSize == 3)
        {
            CodecThrow.Throw(CodecError.InvalidValue, "HEVC lengthSizeMinusOne of 2 is not allowed.");
        }

        var arrayCount = data[22];
        if (arrayCount > MaxArrays)
        {
            CodecThrow.Throw(CodecError.TooMany, "Too many NAL unit arrays in the HEVC record.");
        }

        var arrays = new HevcNalArray[arrayCount];
        var offset = FixedHeaderLength;
        for (var a = 0; a < arrayCount; a++)
        {
            if (data.Length - offset < 3)
            {
                CodecThrow.Throw(CodecError.Truncated, "HEVC record ends inside an array header.");
            }

            var typeByte = data[offset];
            var count = BinaryPrimitives.ReadUInt16BigEndian(data[(offset + 1)..]);
            offset += 3;
            if (count > MaxNalUnitsPerArray)
            {
                CodecThrow.Throw(CodecError.TooMany, "Too many NAL units in an HEVC record array.");
            }

            var units = new byte[count][];
            for (var i = 0; i < count; i++)
            {
                if (data.Length - offset < 2)
                {
                    CodecThrow.Throw(CodecError.Truncated, "HEVC record ends inside a NAL unit length.");
                }

                var length = BinaryPrimitives.ReadUInt16BigEndian(data[offset..]);
                offset += 2;
                if (length == 0 || length > MaxNalUnitLength)
                {
                    CodecThrow.Throw(CodecError.InvalidLength, "HEVC record NAL unit length is zero or above the limit.");
                }

                if (data.Length - offset < length)
                {
                    CodecThrow.Throw(CodecError.Truncated, "HEVC record NAL unit longer than the record.");
                }

                units[i] = data.Slice(offset, length).ToArray();
                offset += length;
            }

            arrays[a] = new HevcNalArray((typeByte & 0x80) != 0, (HevcNalUnitType)(typeByte & 0x3F), units);
        }

        return new HevcDecoderConfigurationRecord
        {
            GeneralProfileSpace = (byte)(data[1] >> 6),
            GeneralTierFlag = (data[1] & 0x20) != 0,
            GeneralProfileIdc = (byte)(data[1] & 0x1F),
            GeneralProfileCompatibilityFlags = BinaryPrimitives.ReadUInt32BigEndian(data[2..]),
            GeneralConstraintIndicatorFlags = ((ulong)BinaryPrimitives.ReadUInt16BigEndian(data[6..]) << 32) | BinaryPrimitives.ReadUInt32BigEndian(data[8..]),
            GeneralLevelIdc = data[12],
            MinSpatialSegmentationIdc = (ushort)(BinaryPrimitives.ReadUInt16BigEndian(data[13..]) & 0x0FFF),
            ParallelismType = (byte)(data[15] & 0x03),
            ChromaFormat = (byte)(data[16] & 0x03),
            BitDepthLumaMinus8 = (byte)(data[17] & 0x07),
            BitDepthChromaMinus8 = (byte)(data[18] & 0x07),
            AvgFrameRate = BinaryPrimitives.ReadUInt16BigEndian(data[19..]),
            ConstantFrameRate = (byte)(data[21] >> 6),
            NumTemporalLayers = (byte)((data[21] >> 3) & 0x07),
            TemporalIdNested = (data[21] & 0x04) != 0,
            NalUnitLengthSize = lengthSize,
            Arrays = arrays,
        };
    }

    /// <summary>Writes the record; reserved bits as ones.</summary>
    public void Write(IBufferWriter<byte> output)
    {
        if (NalUnitLengthSize is not (1 or 2 or 4))
        {
            throw new InvalidOperationException("NAL unit length size must be 1, 2 or 4.");
        }

        var length = Length;
        var span = output.GetSpan(length);
        span[0] = 1;
        span[1] = (byte)((GeneralProfileSpace << 6) | (GeneralTierFlag ? 0x20 : 0) | (GeneralProfileIdc & 0x1F));
        BinaryPrimitives.WriteUInt32BigEndian(span[2..], GeneralProfileCompatibilityFlags);
        BinaryPrimitives.WriteUInt16BigEndian(span[6..], (ushort)(GeneralConstraintIndicatorFlags >> 32));
        BinaryPrimitives.WriteUInt32BigEndian(span[8..], (uint)GeneralConstraintIndicatorFlags);
        span[12] = GeneralLevelIdc;
        BinaryPrimitives.WriteUInt16BigEndian(span[13..], (ushort)(0xF000 | (MinSpatialSegmentationIdc & 0x0FFF)));
        span[15] = (byte)(0xFC | (ParallelismType & 0x03));
        span[16] = (byte)(0xFC | (ChromaFormat & 0x03));
        span[17] = (byte)(0xF8 | (BitDepthLumaMinus8 & 0x07));
        span[18] = (byte)(0xF8 | (BitDepthChromaMinus8 & 0x07));
        BinaryPrimitives.WriteUInt16BigEndian(span[19..], AvgFrameRate);
        span[21] = (byte)((ConstantFrameRate << 6) | ((NumTemporalLayers & 0x07) << 3) | (TemporalIdNested ? 0x04 : 0) | (NalUnitLengthSize - 1));
        span[22] = checked((byte)Arrays.Count);
        var offset = FixedHeaderLength;
        foreach (var array in Arrays)
        {
            span[offset] = (byte)((array.ArrayCompleteness ? 0x80 : 0) | ((byte)array.NalUnitType & 0x3F));
            BinaryPrimitives.WriteUInt16BigEndian(span[(offset + 1)..], checked((ushort)array.NalUnits.Count));
            offset += 3;
            foreach (var nal in array.NalUnits)
            {
                BinaryPrimitives.WriteUInt16BigEndian(span[offset..], checked((ushort)nal.Length));
                nal.CopyTo(span[(offset + 2)..]);
                offset += 2 + nal.Length;
            }
        }

        output.Advance(length);
    }
}
