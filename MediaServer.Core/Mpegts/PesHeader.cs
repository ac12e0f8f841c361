namespace MediaServer.Core.Mpegts;

/// <summary>
/// The PES packet header as we write it (ISO/IEC 13818-1 §2.4.3.6-7): optional header with PTS and DTS.
/// </summary>
/// <remarks>
/// <code>
/// u24 packet_start_code_prefix 0x000001   u8 stream_id (0xE0 video, 0xC0 audio)
/// u16 PES_packet_length (bytes after this field; 0 = unbounded, video only)
/// b2 '10'  u2 PES_scrambling_control  u1 PES_priority  u1 data_alignment_indicator  u1 copyright  u1 original
/// u2 PTS_DTS_flags (10 PTS, 11 PTS+DTS)  u1 ESCR  u1 ES_rate  u1 DSM_trick_mode  u1 additional_copy_info
/// u1 PES_CRC  u1 PES_extension
/// u8 PES_header_data_length (5 or 10)
/// PTS: b4 '0010' (or '0011' with DTS)  u3 PTS[32..30]  m1  u15 PTS[29..15]  m1  u15 PTS[14..0]  m1
/// DTS: b4 '0001'                       u3 DTS[32..30]  m1  u15 DTS[29..15]  m1  u15 DTS[14..0]  m1
/// </code>
/// Timestamps are 90 kHz, written mod 2^33. DTS is written only when it differs from PTS.
/// </remarks>
public readonly record struct PesHeader(byte StreamId, long Pts, long Dts, int PayloadLength, bool DataAlignment = true)
{
    public const byte VideoStreamId = 0xE0;
    public const byte AudioStreamId = 0xC0;

    /// <summary>Longest header we write: 9 fixed bytes + PTS + DTS.</summary>
    public const int MaxLength = 19;

    /// <summary>Largest value of the 16-bit PES_packet_length.</summary>
    public const int MaxPacketLength = 0xFFFF;

    public bool HasDts => ((Dts ^ Pts) & AdaptationField.TimestampMask) != 0;

    /// <summary>Header size in bytes (14 or 19).</summary>
    public int Length => HasDts ? 19 : 14;

    /// <summary>The PES_packet_length field: bytes after it, or 0 when that does not fit 16 bits.</summary>
    public int PacketLengthField
    {
        get
        {
            var length = Length - 6 + PayloadLength;
            return length > MaxPacketLength ? 0 : length;
        }
    }

    /// <summary>Writes the header; returns its length.</summary>
    public int Write(Span<byte> destination)
    {
        var hasDts = HasDts;
        destination[0] = 0;
        destination[1] = 0;
        destination[2] = 1;
        destination[3] = StreamId;
        var packetLength = PacketLengthField;
        destination[4] = (byte)(packetLength >> 8);
        destination[5] = (byte)packetLength;
        destination[6] = (byte)(0x80 | (DataAlignment ? 0x04 : 0));
        destination[7] = hasDts ? (byte)0xC0 : (byte)0x80;
        destination[8] = hasDts ? (byte)10 : (byte)5;
        WriteTimestamp(destination[9..], hasDts ? (byte)0x3 : (byte)0x2, Pts);
        if (hasDts)
        {
            WriteTimestamp(destination[14..], 0x1, Dts);
        }

        return hasDts ? 19 : 14;
    }

    /// <summary>Writes a 5-byte PTS/DTS field: 4-bit prefix, 33-bit value (mod 2^33) split 3/15/15 with marker bits.</summary>
    public static void WriteTimestamp(Span<byte> destination, byte prefix, long timestamp)
    {
        var ts = timestamp & AdaptationField.TimestampMask;
        destination[0] = (byte)((prefix << 4) | (int)((ts >> 29) & 0x0E) | 1);
        destination[1] = (byte)(ts >> 22);
        destination[2] = (byte)(((ts >> 14) & 0xFE) | 1);
        destination[3] = (byte)(ts >> 7);
        destination[4] = (byte)(((ts << 1) & 0xFE) | 1);
    }

    /// <summary>Reads a 5-byte PTS/DTS field.</summary>
    public static long ReadTimestamp(ReadOnlySpan<byte> source) =>
        ((long)(source[0] & 0x0E) << 29) | ((long)source[1] << 22) | ((long)(source[2] & 0xFE) << 14) | ((long)source[3] << 7) | ((long)source[4] >> 1);
}
