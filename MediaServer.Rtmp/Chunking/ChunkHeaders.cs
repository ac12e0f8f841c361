using System.Buffers;
using System.Buffers.Binary;

namespace MediaServer.Rtmp.Chunking;

/// <summary>
/// Chunk basic header (RTMP 1.0 spec §5.3.1.1): the chunk format and the chunk stream id.
/// </summary>
/// <remarks>
/// <code>
///  0 1 2 3 4 5 6 7
/// +-+-+-+-+-+-+-+-+
/// |fmt|   cs id   |                         csid 2..63
/// |fmt|     0     |  cs id - 64   |         csid 64..319
/// |fmt|     1     |  cs id - 64 (little-endian 16 bits) |  csid 64..65599
/// </code>
/// csid 0 and 1 mark the longer forms; csid 2 is reserved for protocol control messages.
/// </remarks>
public readonly record struct ChunkBasicHeader(byte Format, int ChunkStreamId)
{
    public const int MinChunkStreamId = 2;
    public const int MaxChunkStreamId = 65599;

    /// <summary>Encoded size in bytes for a chunk stream id.</summary>
    public static int GetSize(int chunkStreamId) => chunkStreamId < 64 ? 1 : chunkStreamId < 320 ? 2 : 3;

    public int Size => GetSize(ChunkStreamId);

    /// <summary>Reads a basic header; false = need more bytes.</summary>
    public static bool TryRead(ref SequenceReader<byte> reader, out ChunkBasicHeader header)
    {
        header = default;
        if (!reader.TryRead(out var first))
        {
            return false;
        }

        var format = (byte)(first >> 6);
        var id = first & 0x3F;
        if (id == 0)
        {
            if (!reader.TryRead(out var b1))
            {
                return false;
            }

            id = b1 + 64;
        }
        else if (id == 1)
        {
            if (!reader.TryRead(out var b1) || !reader.TryRead(out var b2))
            {
                return false;
            }

            id = (b2 << 8) + b1 + 64;
        }

        header = new ChunkBasicHeader(format, id);
        return true;
    }

    /// <summary>Writes the header into <paramref name="destination"/>; returns the bytes written.</summary>
    public int Write(Span<byte> destination)
    {
        if (ChunkStreamId is < MinChunkStreamId or > MaxChunkStreamId)
        {
            throw new InvalidOperationException($"Chunk stream id {ChunkStreamId} is outside 2..65599.");
        }

        var fmt = (byte)(Format << 6);
        if (ChunkStreamId < 64)
        {
            destination[0] = (byte)(fmt | ChunkStreamId);
            return 1;
        }

        var rest = ChunkStreamId - 64;
        if (ChunkStreamId < 320)
        {
            destination[0] = fmt;
            destination[1] = (byte)rest;
            return 2;
        }

        destination[0] = (byte)(fmt | 1);
        destination[1] = (byte)rest;
        destination[2] = (byte)(rest >> 8);
        return 3;
    }
}

/// <summary>
/// Chunk message header (RTMP 1.0 spec §5.3.1.2), in one of four formats, plus the extended timestamp
/// (§5.3.1.3).
/// </summary>
/// <remarks>
/// <code>
/// fmt 0 (11 bytes): | timestamp (3) | message length (3) | type id (1) | message stream id (4, LITTLE-endian) |
/// fmt 1 (7 bytes):  | timestamp delta (3) | message length (3) | type id (1) |
/// fmt 2 (3 bytes):  | timestamp delta (3) |
/// fmt 3 (0 bytes)
/// extended timestamp (4, big-endian): present when the 3-byte field is 0xFFFFFF, and on fmt 3 chunks of a
/// chunk stream whose last fmt 0/1/2 header had it.
/// </code>
/// <see cref="Timestamp"/> holds the absolute timestamp (fmt 0) or the delta (fmt 1/2), already resolved
/// from the extended field.
/// </remarks>
public readonly record struct ChunkMessageHeader(byte Format, uint Timestamp, int MessageLength, byte TypeId, uint MessageStreamId, bool HasExtendedTimestamp)
{
    public const uint ExtendedTimestampMarker = 0xFFFFFF;

    /// <summary>Size of the message header for a format, without the extended timestamp.</summary>
    public static int GetSize(byte format) => format switch
    {
        0 => 11,
        1 => 7,
        2 => 3,
        _ => 0,
    };

    /// <summary>
    /// Reads the message header of <paramref name="format"/>. For fmt 3 the extended timestamp is read when
    /// <paramref name="previousHadExtended"/>, and <see cref="Timestamp"/> then holds its value.
    /// False = need more bytes.
    /// </summary>
    public static bool TryRead(ref SequenceReader<byte> reader, byte format, bool previousHadExtended, out ChunkMessageHeader header)
    {
        header = default;
        var size = GetSize(format);
        Span<byte> buffer = stackalloc byte[11];
        if (!reader.TryCopyTo(buffer[..size]))
        {
            return false;
        }

        reader.Advance(size);
        uint timestamp = 0;
        int length = 0;
        byte typeId = 0;
        uint streamId = 0;
        bool extended;
        if (format == 3)
        {
            extended = previousHadExtended;
        }
        else
        {
            timestamp = ReadUInt24(buffer);
            extended = timestamp == ExtendedTimestampMarker;
            if (format <= 1)
            {
                length = (int)ReadUInt24(buffer[3..]);
                typeId = buffer[6];
            }

            if (format == 0)
            {
                streamId = BinaryPrimitives.ReadUInt32LittleEndian(buffer[7..]);
            }
        }

        if (extended)
        {
            if (!reader.TryReadBigEndian(out int ext))
            {
                return false;
            }

            timestamp = unchecked((uint)ext);
        }

        header = new ChunkMessageHeader(format, timestamp, length, typeId, streamId, extended);
        return true;
    }

    /// <summary>Writes the header (and extended timestamp when needed); returns the bytes written.</summary>
    public int Write(Span<byte> destination)
    {
        var extended = Timestamp >= ExtendedTimestampMarker;
        var size = GetSize(Format);
        if (Format <= 2)
        {
            WriteUInt24(destination, extended ? ExtendedTimestampMarker : Timestamp);
        }

        if (Format <= 1)
        {
            WriteUInt24(destination[3..], (uint)MessageLength);
            destination[6] = TypeId;
        }

        if (Format == 0)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(destination[7..], MessageStreamId);
        }

        if (Format == 3 ? HasExtendedTimestamp : extended)
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination[size..], Timestamp);
            return size + 4;
        }

        return size;
    }

    internal static uint ReadUInt24(ReadOnlySpan<byte> span) => (uint)((span[0] << 16) | (span[1] << 8) | span[2]);

    internal static void WriteUInt24(Span<byte> span, uint value)
    {
        span[0] = (byte)(value >> 16);
        span[1] = (byte)(value >> 8);
        span[2] = (byte)value;
    }
}
