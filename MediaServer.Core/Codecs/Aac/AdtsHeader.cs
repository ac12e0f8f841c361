namespace MediaServer.Core.Codecs.Aac;

/// <summary>
/// The 7-byte ADTS header without CRC (ISO/IEC 14496-3 §1.A.2.2, adts_fixed_header + adts_variable_header)
/// put before every raw AAC frame in MPEG-TS (stream type 0x0F).
/// </summary>
/// <remarks>
/// <code>
/// u12 syncword 0xFFF  u1 ID (0 = MPEG-4)  u2 layer 00  u1 protection_absent (1: no CRC)
/// u2 profile (object type − 1)  u4 sampling_frequency_index  u1 private_bit  u3 channel_configuration
/// u1 original_copy  u1 home  u1 copyright_identification_bit  u1 copyright_identification_start
/// u13 aac_frame_length (header included)  u11 adts_buffer_fullness (0x7FF = VBR)
/// u2 number_of_raw_data_blocks_in_frame (0 = one block)
/// </code>
/// </remarks>
public readonly record struct AdtsHeader(int Profile, int SamplingFrequencyIndex, int ChannelConfiguration, int FrameLength)
{
    public const int Length = 7;

    /// <summary>Largest frame ADTS can describe: the 13-bit aac_frame_length, header included.</summary>
    public const int MaxFrameLength = 0x1FFF;

    /// <summary>
    /// The header for a raw frame of <paramref name="rawLength"/> bytes under <paramref name="config"/>: the core
    /// object type and core sampling frequency (HE-AAC is carried with implicit SBR signalling in ADTS).
    /// </summary>
    /// <exception cref="CodecException">The config cannot be expressed in ADTS, or the frame is too long.</exception>
    public static AdtsHeader For(in AudioSpecificConfig config, int rawLength)
    {
        if (config.CoreObjectType is < 1 or > 4)
        {
            CodecThrow.Throw(CodecError.Unsupported, "ADTS can only carry AAC object types 1-4 (Main, LC, SSR, LTP).");
        }

        var index = config.SamplingFrequencyIndex;
        if (index == 0xF)
        {
            index = AudioSpecificConfig.GetFrequencyIndex(config.SamplingFrequency);
            if (index < 0)
            {
                CodecThrow.Throw(CodecError.Unsupported, "ADTS cannot carry a sampling frequency outside the table.");
            }
        }

        if (config.ChannelConfiguration is < 1 or > 7)
        {
            CodecThrow.Throw(CodecError.Unsupported, "ADTS without a program config element needs channel configuration 1-7.");
        }

        if (rawLength < 0 || rawLength > MaxFrameLength - Length)
        {
            CodecThrow.Throw(CodecError.InvalidLength, "AAC frame too long for an ADTS header.");
        }

        return new AdtsHeader(config.CoreObjectType - 1, index, config.ChannelConfiguration, rawLength + Length);
    }

    /// <summary>Writes the 7 bytes.</summary>
    public void Write(Span<byte> destination)
    {
        var length = FrameLength;
        destination[0] = 0xFF;
        destination[1] = 0xF1; // syncword low nibble, ID 0, layer 00, protection_absent 1
        destination[2] = (byte)((Profile << 6) | (SamplingFrequencyIndex << 2) | (ChannelConfiguration >> 2));
        destination[3] = (byte)(((ChannelConfiguration & 3) << 6) | (length >> 11));
        destination[4] = (byte)(length >> 3);
        destination[5] = (byte)(((length & 7) << 5) | 0x1F); // buffer fullness 0x7FF, high 5 bits
        destination[6] = 0xFC; // buffer fullness low 6 bits, one raw data block
    }

    /// <summary>Parses a header (CRC-protected headers are accepted; the CRC is not checked).</summary>
    /// <exception cref="CodecException">Truncated or no syncword.</exception>
    public static AdtsHeader Parse(ReadOnlySpan<byte> data)
    {
        if (data.Length < Length)
        {
            CodecThrow.Throw(CodecError.Truncated, "ADTS header shorter than 7 bytes.");
        }

        if (data[0] != 0xFF || (data[1] & 0xF6) != 0xF0)
        {
            CodecThrow.Throw(CodecError.InvalidValue, "ADTS syncword or layer missing.");
        }

        var length = ((data[3] & 0x03) << 11) | (data[4] << 3) | (data[5] >> 5);
        return new AdtsHeader(data[2] >> 6, (data[2] >> 2) & 0x0F, ((data[2] & 1) << 2) | (data[3] >> 6), length);
    }
}
