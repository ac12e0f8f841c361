using System.Buffers.Binary;

namespace MediaServer.Core.Mpegts;

/// <summary>stream_type values of the PMT (ISO/IEC 13818-1 Table 2-34) we use.</summary>
public enum TsStreamType : byte
{
    None = 0,

    /// <summary>ISO/IEC 11172-3 (MPEG-1) audio: MP3 at 32/44.1/48 kHz.</summary>
    Mpeg1Audio = 0x03,

    /// <summary>ISO/IEC 13818-3 (MPEG-2) audio: MP3 at 16/22.05/24 kHz (and MPEG 2.5).</summary>
    Mpeg2Audio = 0x04,

    /// <summary>ISO/IEC 13818-7 audio with ADTS transport syntax.</summary>
    AacAdts = 0x0F,

    /// <summary>AVC video (ITU-T H.264).</summary>
    H264 = 0x1B,

    /// <summary>HEVC video (ITU-T H.265).</summary>
    Hevc = 0x24,
}

/// <summary>One elementary stream of a PMT.</summary>
public readonly record struct PmtStreamEntry(TsStreamType StreamType, ushort Pid);

/// <summary>
/// Program association section (ISO/IEC 13818-1 §2.4.4.3), one program.
/// </summary>
/// <remarks>
/// <code>
/// u8 table_id 0x00
/// u1 section_syntax_indicator 1  b1 '0'  b2 '11'  u12 section_length (bytes after this field, CRC included)
/// u16 transport_stream_id
/// b2 '11'  u5 version_number  u1 current_next_indicator 1
/// u8 section_number 0   u8 last_section_number 0
/// u16 program_number    b3 '111'  u13 program_map_PID
/// u32 CRC_32
/// </code>
/// </remarks>
public static class ProgramAssociationTable
{
    /// <summary>Section length with one program.</summary>
    public const int SectionLength = 16;

    /// <summary>Writes the section; returns its length.</summary>
    public static int WriteSection(Span<byte> destination, ushort transportStreamId, byte version, ushort programNumber, ushort pmtPid)
    {
        destination[0] = 0x00;
        WriteSectionLength(destination, SectionLength);
        BinaryPrimitives.WriteUInt16BigEndian(destination[3..], transportStreamId);
        destination[5] = (byte)(0xC1 | ((version & 0x1F) << 1));
        destination[6] = 0;
        destination[7] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(destination[8..], programNumber);
        BinaryPrimitives.WriteUInt16BigEndian(destination[10..], (ushort)(0xE000 | pmtPid));
        BinaryPrimitives.WriteUInt32BigEndian(destination[12..], Crc32Mpeg2.Compute(destination[..12]));
        return SectionLength;
    }

    internal static void WriteSectionLength(Span<byte> section, int totalLength) =>
        BinaryPrimitives.WriteUInt16BigEndian(section[1..], (ushort)(0xB000 | (totalLength - 3)));
}

/// <summary>
/// TS program map section (ISO/IEC 13818-1 §2.4.4.8), no descriptors.
/// </summary>
/// <remarks>
/// <code>
/// u8 table_id 0x02
/// u1 section_syntax_indicator 1  b1 '0'  b2 '11'  u12 section_length
/// u16 program_number
/// b2 '11'  u5 version_number  u1 current_next_indicator 1
/// u8 section_number 0   u8 last_section_number 0
/// b3 '111'  u13 PCR_PID
/// b4 '1111' u12 program_info_length 0
/// { u8 stream_type  b3 '111' u13 elementary_PID  b4 '1111' u12 ES_info_length 0 } × streams
/// u32 CRC_32
/// </code>
/// </remarks>
public static class ProgramMapTable
{
    /// <summary>Section length for a number of streams.</summary>
    public static int GetSectionLength(int streamCount) => 16 + (5 * streamCount);

    /// <summary>Writes the section; returns its length.</summary>
    public static int WriteSection(Span<byte> destination, ushort programNumber, byte version, ushort pcrPid, ReadOnlySpan<PmtStreamEntry> streams)
    {
        var length = GetSectionLength(streams.Length);
        destination[0] = 0x02;
        ProgramAssociationTable.WriteSectionLength(destination, length);
        BinaryPrimitives.WriteUInt16BigEndian(destination[3..], programNumber);
        destination[5] = (byte)(0xC1 | ((version & 0x1F) << 1));
        destination[6] = 0;
        destination[7] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(destination[8..], (ushort)(0xE000 | pcrPid));
        BinaryPrimitives.WriteUInt16BigEndian(destination[10..], 0xF000);
        var offset = 12;
        foreach (var stream in streams)
        {
            destination[offset] = (byte)stream.StreamType;
            BinaryPrimitives.WriteUInt16BigEndian(destination[(offset + 1)..], (ushort)(0xE000 | stream.Pid));
            BinaryPrimitives.WriteUInt16BigEndian(destination[(offset + 3)..], 0xF000);
            offset += 5;
        }

        BinaryPrimitives.WriteUInt32BigEndian(destination[offset..], Crc32Mpeg2.Compute(destination[..offset]));
        return length;
    }
}
