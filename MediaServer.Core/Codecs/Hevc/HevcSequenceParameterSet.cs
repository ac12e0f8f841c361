namespace MediaServer.Core.Codecs.Hevc;

/// <summary>
/// The head of an HEVC sequence parameter set (ITU-T H.265 §7.3.2.2.1) up to the bit depths: the cropped picture size
/// an MP4 track header carries and the fields an HEVCDecoderConfigurationRecord copies.
/// </summary>
/// <remarks>
/// <code>
/// u16 NAL header (type 33)
/// u4 sps_video_parameter_set_id  u3 sps_max_sub_layers_minus1  u1 sps_temporal_id_nesting_flag
/// profile_tier_level(1, sps_max_sub_layers_minus1)                        — §7.3.3, <see cref="HevcProfileTierLevel"/>
/// ue sps_seq_parameter_set_id  ue chroma_format_idc  [== 3: u1 separate_colour_plane_flag]
/// ue pic_width_in_luma_samples  ue pic_height_in_luma_samples
/// u1 conformance_window_flag [ue left ue right ue top ue bottom]
/// ue bit_depth_luma_minus8  ue bit_depth_chroma_minus8  ...(not read)
/// </code>
/// </remarks>
public readonly record struct HevcSequenceParameterSet(
    HevcProfileTierLevel ProfileTierLevel,
    byte MaxSubLayersMinus1,
    bool TemporalIdNesting,
    uint ChromaFormatIdc,
    int Width,
    int Height,
    byte BitDepthLumaMinus8,
    byte BitDepthChromaMinus8)
{
    /// <summary>Largest picture side we accept, in luma samples: level 6.2 tops out at 8192 × 4320; twice that bounds a lie.</summary>
    private const uint MaxPictureSide = 16_384;

    /// <summary>Largest bit_depth_*_minus8 (H.265 §7.4.3.2.1: 0..8, i.e. up to 16 bits per sample).</summary>
    private const uint MaxBitDepthMinus8 = 8;

    /// <summary>general_profile_idc.</summary>
    public byte ProfileIdc => ProfileTierLevel.ProfileIdc;

    /// <summary>general_level_idc (30 × the level: 60 = level 2).</summary>
    public byte LevelIdc => ProfileTierLevel.LevelIdc;

    /// <summary>Parses an SPS NAL unit (its two header bytes included).</summary>
    /// <exception cref="CodecException">Not an SPS, truncated, or out-of-range values.</exception>
    public static HevcSequenceParameterSet Parse(ReadOnlySpan<byte> nalUnit)
    {
        if (nalUnit.Length < 3)
        {
            CodecThrow.Throw(CodecError.Truncated, "HEVC SPS shorter than its NAL header.");
        }

        if (HevcNal.GetType(nalUnit[0]) != HevcNalUnitType.SequenceParameterSet)
        {
            CodecThrow.Throw(CodecError.InvalidValue, "NAL unit is not an HEVC SPS.");
        }

        var reader = new RbspBitReader(nalUnit[2..]);
        reader.Skip(4); // sps_video_parameter_set_id
        var maxSubLayersMinus1 = (int)reader.ReadBits(3);
        if (maxSubLayersMinus1 > 6)
        {
            CodecThrow.Throw(CodecError.InvalidValue, "HEVC sps_max_sub_layers_minus1 above 6.");
        }

        var temporalIdNesting = reader.ReadFlag();
        var profileTierLevel = HevcProfileTierLevel.Read(ref reader, maxSubLayersMinus1);

        var id = reader.ReadUe();
        if (id > 15)
        {
            CodecThrow.Throw(CodecError.InvalidValue, "HEVC SPS id above 15.");
        }

        var chromaFormat = reader.ReadUe();
        if (chromaFormat > 3)
        {
            CodecThrow.Throw(CodecError.InvalidValue, "HEVC chroma_format_idc above 3.");
        }

        var separateColourPlane = chromaFormat == 3 && reader.ReadFlag();
        var width = reader.ReadUe();
        var height = reader.ReadUe();
        if (width == 0 || height == 0 || width > MaxPictureSide || height > MaxPictureSide)
        {
            CodecThrow.Throw(CodecError.InvalidValue, "HEVC SPS picture size zero or above the limit.");
        }

        if (reader.ReadFlag())
        {
            // Table 6-1: SubWidthC/SubHeightC by ChromaArrayType (0 when monochrome or separate planes).
            var arrayType = separateColourPlane ? 0 : chromaFormat;
            var subWidth = arrayType is 1 or 2 ? 2 : 1;
            var subHeight = arrayType == 1 ? 2 : 1;

            // ue(v) offsets up to 2^32-2 each: sum in 64 bits so a lie cannot wrap.
            var cropWidth = subWidth * ((long)reader.ReadUe() + reader.ReadUe());
            var cropHeight = subHeight * ((long)reader.ReadUe() + reader.ReadUe());
            if (cropWidth >= width || cropHeight >= height)
            {
                CodecThrow.Throw(CodecError.InvalidValue, "HEVC SPS conformance window larger than the picture.");
            }

            width -= (uint)cropWidth;
            height -= (uint)cropHeight;
        }

        var bitDepthLuma = reader.ReadUe();
        var bitDepthChroma = reader.ReadUe();
        if (bitDepthLuma > MaxBitDepthMinus8 || bitDepthChroma > MaxBitDepthMinus8)
        {
            CodecThrow.Throw(CodecError.InvalidValue, "HEVC SPS bit depth above 16.");
        }

        return new HevcSequenceParameterSet(
            profileTierLevel, (byte)maxSubLayersMinus1, temporalIdNesting, chromaFormat, (int)width, (int)height, (byte)bitDepthLuma, (byte)bitDepthChroma);
    }
}
