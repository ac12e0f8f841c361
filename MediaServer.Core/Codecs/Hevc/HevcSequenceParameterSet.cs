namespace MediaServer.Core.Codecs.Hevc;

/// <summary>
/// The head of an HEVC sequence parameter set (ITU-T H.265 §7.3.2.2.1) up to the conformance window: enough for the
/// cropped picture size an MP4 track header carries.
/// </summary>
/// <remarks>
/// <code>
/// u16 NAL header (type 33)
/// u4 sps_video_parameter_set_id  u3 sps_max_sub_layers_minus1  u1 sps_temporal_id_nesting_flag
/// profile_tier_level(1, sps_max_sub_layers_minus1)                        — §7.3.3:
///     u2 profile_space u1 tier u5 profile_idc  u32 compatibility  u48 constraint flags  u8 level_idc
///     { u1 sub_layer_profile_present  u1 sub_layer_level_present } × max_sub_layers_minus1
///     [max_sub_layers_minus1 > 0: u2 reserved × (8 − max_sub_layers_minus1)]
///     { [profile present: 88 bits] [level present: u8] } × max_sub_layers_minus1
/// ue sps_seq_parameter_set_id  ue chroma_format_idc  [== 3: u1 separate_colour_plane_flag]
/// ue pic_width_in_luma_samples  ue pic_height_in_luma_samples
/// u1 conformance_window_flag [ue left ue right ue top ue bottom]  ...(not read)
/// </code>
/// </remarks>
public readonly record struct HevcSequenceParameterSet(byte ProfileIdc, byte LevelIdc, uint ChromaFormatIdc, int Width, int Height)
{
    /// <summary>Largest picture side we accept, in luma samples: level 6.2 tops out at 8192 × 4320; twice that bounds a lie.</summary>
    private const uint MaxPictureSide = 16_384;

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

        reader.Skip(1); // sps_temporal_id_nesting_flag

        // profile_tier_level: the general part is 96 bits.
        reader.Skip(3); // general_profile_space, general_tier_flag
        var profile = (byte)reader.ReadBits(5);
        reader.Skip(32 + 48);
        var level = (byte)reader.ReadBits(8);
        Span<bool> profilePresent = stackalloc bool[8];
        Span<bool> levelPresent = stackalloc bool[8];
        for (var i = 0; i < maxSubLayersMinus1; i++)
        {
            profilePresent[i] = reader.ReadFlag();
            levelPresent[i] = reader.ReadFlag();
        }

        if (maxSubLayersMinus1 > 0)
        {
            reader.Skip(2 * (8 - maxSubLayersMinus1)); // reserved_zero_2bits
        }

        for (var i = 0; i < maxSubLayersMinus1; i++)
        {
            reader.Skip((profilePresent[i] ? 88 : 0) + (levelPresent[i] ? 8 : 0));
        }

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

        return new HevcSequenceParameterSet(profile, level, chromaFormat, (int)width, (int)height);
    }
}
