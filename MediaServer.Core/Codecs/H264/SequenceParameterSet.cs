namespace MediaServer.Core.Codecs.H264;

/// <summary>
/// The few fields of an H.264 sequence parameter set (H.264 §7.3.2.1.1) we use for diagnostics: profile,
/// level and the cropped picture size.
/// </summary>
/// <remarks>
/// <code>
/// u8 profile_idc  u8 constraint_set flags  u8 level_idc  ue seq_parameter_set_id
/// [high profiles: ue chroma_format_idc [u1 separate_colour_plane] ue bit_depth_luma-8 ue bit_depth_chroma-8
///                 u1 qpprime_y_zero_transform_bypass u1 seq_scaling_matrix_present [scaling lists]]
/// ue log2_max_frame_num-4  ue pic_order_cnt_type [type 0: ue log2_max_poc_lsb-4 | type 1: ...]
/// ue max_num_ref_frames  u1 gaps_in_frame_num_allowed  ue pic_width_in_mbs-1  ue pic_height_in_map_units-1
/// u1 frame_mbs_only [u1 mb_adaptive_frame_field]  u1 direct_8x8_inference
/// u1 frame_cropping [ue left ue right ue top ue bottom]  ...VUI (not read)
/// </code>
/// </remarks>
public readonly record struct SequenceParameterSet(byte ProfileIdc, byte ConstraintFlags, byte LevelIdc, uint Id, uint ChromaFormatIdc, int Width, int Height)
{
    /// <summary>Largest picture side we accept (in macroblocks); beyond 8K×8K is not a real stream.</summary>
    private const uint MaxMacroblocksPerSide = 1024;

    /// <summary>H.264 bounds num_ref_frames_in_pic_order_cnt_cycle to 0..255 (§7.4.2.1.1).</summary>
    private const uint MaxRefFramesInPocCycle = 255;

    /// <summary>Parses an SPS NAL unit (its header byte included).</summary>
    /// <exception cref="CodecException">Not an SPS, truncated, or out-of-range values.</exception>
    public static SequenceParameterSet Parse(ReadOnlySpan<byte> nalUnit)
    {
        if (nalUnit.Length < 4)
        {
            CodecThrow.Throw(CodecError.Truncated, "SPS shorter than its fixed fields.");
        }

        if (H264Nal.GetType(nalUnit[0]) != NalUnitType.SequenceParameterSet)
        {
            CodecThrow.Throw(CodecError.InvalidValue, "NAL unit is not an SPS.");
        }

        var reader = new RbspBitReader(nalUnit[1..]);
        var profile = (byte)reader.ReadBits(8);
        var constraints = (byte)reader.ReadBits(8);
        var level = (byte)reader.ReadBits(8);
        var id = reader.ReadUe();
        if (id > 31)
        {
            CodecThrow.Throw(CodecError.InvalidValue, "SPS id above 31.");
        }

        uint chromaFormat = 1;
        var separateColourPlane = false;
        if (profile is 100 or 110 or 122 or 244 or 44 or 83 or 86 or 118 or 128 or 138 or 139 or 134 or 135)
        {
            chromaFormat = reader.ReadUe();
            if (chromaFormat > 3)
            {
                CodecThrow.Throw(CodecError.InvalidValue, "SPS chroma_format_idc above 3.");
            }

            if (chromaFormat == 3)
            {
                separateColourPlane = reader.ReadFlag();
            }

            reader.ReadUe(); // bit_depth_luma_minus8
            reader.ReadUe(); // bit_depth_chroma_minus8
            reader.ReadBit(); // qpprime_y_zero_transform_bypass_flag
            if (reader.ReadFlag())
            {
                var lists = chromaFormat != 3 ? 8 : 12;
                for (var i = 0; i < lists; i++)
                {
                    if (reader.ReadFlag())
                    {
                        SkipScalingList(ref reader, i < 6 ? 16 : 64);
                    }
                }
            }
        }

        reader.ReadUe(); // log2_max_frame_num_minus4
        var pocType = reader.ReadUe();
        if (pocType == 0)
        {
            reader.ReadUe(); // log2_max_pic_order_cnt_lsb_minus4
        }
        else if (pocType == 1)
        {
            reader.ReadBit(); // delta_pic_order_always_zero_flag
            reader.ReadSe(); // offset_for_non_ref_pic
            reader.ReadSe(); // offset_for_top_to_bottom_field
            var cycle = reader.ReadUe();
            if (cycle > MaxRefFramesInPocCycle)
            {
                CodecThrow.Throw(CodecError.InvalidValue, "SPS num_ref_frames_in_pic_order_cnt_cycle above 255.");
            }

            for (var i = 0; i < cycle; i++)
            {
                reader.ReadSe();
            }
        }

        reader.ReadUe(); // max_num_ref_frames
        reader.ReadBit(); // gaps_in_frame_num_value_allowed_flag
        var widthMbs = reader.ReadUe() + 1;
        var heightMapUnits = reader.ReadUe() + 1;
        if (widthMbs > MaxMacroblocksPerSide || heightMapUnits > MaxMacroblocksPerSide)
        {
            CodecThrow.Throw(CodecError.InvalidValue, "SPS picture size above the limit.");
        }

        var frameMbsOnly = reader.ReadFlag();
        if (!frameMbsOnly)
        {
            reader.ReadBit(); // mb_adaptive_frame_field_flag
        }

        reader.ReadBit(); // direct_8x8_inference_flag
        var width = (int)widthMbs * 16;
        var height = (frameMbsOnly ? 1 : 2) * (int)heightMapUnits * 16;
        if (reader.ReadFlag())
        {
            var left = reader.ReadUe();
            var right = reader.ReadUe();
            var top = reader.ReadUe();
            var bottom = reader.ReadUe();

            // Table 6-1: SubWidthC/SubHeightC by chroma format; monochrome or separate planes crop in luma units.
            int cropX, cropY;
            if (chromaFormat == 0 || separateColourPlane)
            {
                cropX = 1;
                cropY = frameMbsOnly ? 1 : 2;
            }
            else
            {
                cropX = chromaFormat == 3 ? 1 : 2;
                cropY = (chromaFormat == 1 ? 2 : 1) * (frameMbsOnly ? 1 : 2);
            }

            // Offsets are ue(v) up to 2^32-2 each: sum them in 64 bits, a 32-bit sum wraps and hides the lie.
            var cropWidth = cropX * ((long)left + right);
            var cropHeight = cropY * ((long)top + bottom);
            if (cropWidth >= width || cropHeight >= height)
            {
                CodecThrow.Throw(CodecError.InvalidValue, "SPS cropping larger than the picture.");
            }

            width -= (int)cropWidth;
            height -= (int)cropHeight;
        }

        return new SequenceParameterSet(profile, constraints, level, id, chromaFormat, width, height);
    }

    private static void SkipScalingList(ref RbspBitReader reader, int size)
    {
        // H.264 §7.3.2.1.1.1: delta_scale se(v) until nextScale becomes 0.
        var last = 8;
        var next = 8;
        for (var j = 0; j < size; j++)
        {
            if (next != 0)
            {
                var delta = reader.ReadSe();
                next = (last + delta + 256) % 256;
            }

            last = next == 0 ? last : next;
        }
    }
}
