namespace MediaServer.Core.Mpegts;

/// <summary>
/// The adaptation field (ISO/IEC 13818-1 §2.4.3.4) as we write it: random access indicator, PCR, stuffing.
/// </summary>
/// <remarks>
/// <code>
/// u8 adaptation_field_length (bytes after this one; 0 = a single stuffing byte)
/// u1 discontinuity_indicator  u1 random_access_indicator  u1 elementary_stream_priority_indicator
/// u1 PCR_flag  u1 OPCR_flag  u1 splicing_point_flag  u1 transport_private_data_flag  u1 extension_flag
/// [PCR_flag: u33 program_clock_reference_base (90 kHz)  b6 reserved '111111'  u9 program_clock_reference_extension]
/// stuffing bytes 0xFF ...
/// </code>
/// PCR (27 MHz) = base × 300 + extension.
/// </remarks>
public static class AdaptationField
{
    /// <summary>Length byte + flags byte.</summary>
    public const int FlagsLength = 2;

    /// <summary>Length byte + flags byte + 6-byte PCR.</summary>
    public const int PcrLength = 8;

    public const byte RandomAccessFlag = 0x40;
    public const byte PcrFlag = 0x10;

    /// <summary>33-bit mask of the 90 kHz clocks (PTS, DTS, PCR base).</summary>
    public const long TimestampMask = (1L << 33) - 1;

    /// <summary>The smallest field carrying these flags (0 when none is needed).</summary>
    public static int GetMinimumLength(bool randomAccess, bool hasPcr) => hasPcr ? PcrLength : randomAccess ? FlagsLength : 0;

    /// <summary>
    /// Writes a field of exactly <c>destination.Length</c> bytes (length byte included, ≥ 1), stuffed with 0xFF.
    /// </summary>
    /// <param name="destination">Where the field goes, sized to the whole field.</param>
    /// <param name="randomAccess">random_access_indicator.</param>
    /// <param name="pcrBase">PCR base in 90 kHz ticks (written mod 2^33, extension 0), or negative for none.</param>
    public static void Write(Span<byte> destination, bool randomAccess, long pcrBase)
    {
        destination[0] = (byte)(destination.Length - 1);
        if (destination.Length == 1)
        {
            return;
        }

        destination[1] = (byte)((randomAccess ? RandomAccessFlag : 0) | (pcrBase >= 0 ? PcrFlag : 0));
        var offset = 2;
        if (pcrBase >= 0)
        {
            WritePcr(destination[2..], pcrBase & TimestampMask, 0);
            offset += 6;
        }

        destination[offset..].Fill(0xFF);
    }

    /// <summary>Writes the 6-byte PCR: 33-bit base, 6 reserved ones, 9-bit extension.</summary>
    public static void WritePcr(Span<byte> destination, long pcrBase, int extension)
    {
        destination[0] = (byte)(pcrBase >> 25);
        destination[1] = (byte)(pcrBase >> 17);
        destination[2] = (byte)(pcrBase >> 9);
        destination[3] = (byte)(pcrBase >> 1);
        destination[4] = (byte)((int)((pcrBase & 1) << 7) | 0x7E | ((extension >> 8) & 1));
        destination[5] = (byte)extension;
    }
}
