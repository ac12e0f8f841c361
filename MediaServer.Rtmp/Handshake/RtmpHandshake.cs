using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;

namespace MediaServer.Rtmp.Handshake;

/// <summary>
/// The RTMP handshake (RTMP 1.0 spec §5.2): C0/C1/C2 from the client, S0/S1/S2 from the server.
/// </summary>
/// <remarks>
/// <code>
/// C0/S0: | version (1 byte) = 3 |
/// C1/S1: | time (4) | zero or version (4) | random (1528) |        1536 bytes
/// C2/S2: | time (4) | time2 (4)            | random echo (1528) |  1536 bytes
/// </code>
/// Two forms exist. The simple form (C1 bytes 4-7 zero) echoes C1 as S2. The digest ("complex", Flash
/// Player 9) form hides a 32-byte HMAC-SHA256 digest in C1 at an offset computed from four bytes at
/// either schema base: base 8 (schema 0) or base 772 (schema 1); offset = (sum of bytes base..base+3) % 728
/// + base + 4. The digest is keyed with the first 30 bytes of the player key ("Genuine Adobe Flash Player 001")
/// over all C1 bytes but the digest. The server answers with an S1 carrying its own digest (first 36 bytes of
/// the server key "Genuine Adobe Flash Media Server 001") at the same schema, and an S2 whose last 32 bytes
/// are HMAC(HMAC(full 68-byte server key, C1 digest), S2[0..1504]).
/// </remarks>
public static class RtmpHandshake
{
    public const byte Version = 3;
    public const int PacketSize = 1536;
    public const int DigestLength = 32;

    private const int DigestOffsetModulo = 728;
    private const int Schema0Base = 8;
    private const int Schema1Base = 772;

    // Any non-zero version tells a Flash-9 client we speak the digest form (nginx-rtmp and SRS send similar).
    private const uint ServerVersion = 0x0D0E0A0D;

    private static ReadOnlySpan<byte> KeyTail =>
    [
        0xF0, 0xEE, 0xC2, 0x4A, 0x80, 0x68, 0xBE, 0xE8, 0x2E, 0x00, 0xD0, 0xD1, 0x02, 0x9E, 0x7E, 0x57,
        0x6E, 0xEC, 0x5D, 0x2D, 0x29, 0x80, 0x6F, 0xAB, 0x93, 0xB8, 0xE6, 0x36, 0xCF, 0xEB, 0x31, 0xAE,
    ];

    /// <summary>"Genuine Adobe Flash Player 001" + 32-byte tail (62 bytes).</summary>
    internal static readonly byte[] PlayerKey = [.. "Genuine Adobe Flash Player 001"u8, .. KeyTail];

    /// <summary>"Genuine Adobe Flash Media Server 001" + 32-byte tail (68 bytes).</summary>
    internal static readonly byte[] ServerKey = [.. "Genuine Adobe Flash Media Server 001"u8, .. KeyTail];

    internal const int PlayerKeyTextLength = 30;
    internal const int ServerKeyTextLength = 36;

    /// <summary>Server side: reads C0 and C1 (1537 bytes). False = need more bytes.</summary>
    /// <exception cref="RtmpProtocolException">C0 is not version 3 (RTMPE and others are not supported).</exception>
    public static bool TryReadC0C1(ref SequenceReader<byte> reader, Span<byte> c1)
    {
        // Check the version as soon as it arrives: garbage (an HTTP request, RTMPE) fails at once.
        if (reader.TryPeek(out var version) && version != Version)
        {
            RtmpProtocolException.Throw(RtmpProtocolError.UnsupportedHandshakeVersion, $"Unsupported RTMP handshake version {version}.");
        }

        if (reader.Remaining < 1 + PacketSize)
        {
            return false;
        }

        reader.Advance(1);
        reader.TryCopyTo(c1[..PacketSize]);
        reader.Advance(PacketSize);
        return true;
    }

    /// <summary>Reads C2 (server side) or S2 (client side): 1536 bytes we do not validate (clients vary).</summary>
    public static bool TrySkipPacket(ref SequenceReader<byte> reader)
    {
        if (reader.Remaining < PacketSize)
        {
            return false;
        }

        reader.Advance(PacketSize);
        return true;
    }

    /// <summary>Server side: writes S0, S1 and S2 answering <paramref name="c1"/> in the form the client used.</summary>
    public static void WriteS0S1S2(ReadOnlySpan<byte> c1, IBufferWriter<byte> output) => WriteS0S1S2(c1, output, null);

    /// <summary>Server side, with a deterministic random source for tests.</summary>
    internal static void WriteS0S1S2(ReadOnlySpan<byte> c1, IBufferWriter<byte> output, Random? random)
    {
        var span = output.GetSpan(1 + 2 * PacketSize)[..(1 + 2 * PacketSize)];
        span[0] = Version;
        var s1 = span.Slice(1, PacketSize);
        var s2 = span.Slice(1 + PacketSize, PacketSize);
        Fill(s1, random);

        var schemaBase = -1;
        var digestOffset = BinaryPrimitives.ReadUInt32BigEndian(c1[4..]) == 0 ? -1 : FindDigest(c1, PlayerKey.AsSpan(0, PlayerKeyTextLength), out schemaBase);
        if (digestOffset < 0)
        {
            // Simple form: S1 = time 0, zero, random; S2 = C1 echoed.
            BinaryPrimitives.WriteUInt32BigEndian(s1, 0);
            BinaryPrimitives.WriteUInt32BigEndian(s1[4..], 0);
            c1[..PacketSize].CopyTo(s2);
        }
        else
        {
            BinaryPrimitives.WriteUInt32BigEndian(s1, 0);
            BinaryPrimitives.WriteUInt32BigEndian(s1[4..], ServerVersion);
            var s1Offset = DigestOffset(s1, schemaBase);
            ComputeDigest(s1, s1Offset, ServerKey.AsSpan(0, ServerKeyTextLength), s1.Slice(s1Offset, DigestLength));

            Fill(s2, random);
            Span<byte> key = stackalloc byte[DigestLength];
            HMACSHA256.HashData(ServerKey, c1.Slice(digestOffset, DigestLength), key);
            HMACSHA256.HashData(key, s2[..(PacketSize - DigestLength)], s2[(PacketSize - DigestLength)..]);
        }

        output.Advance(1 + 2 * PacketSize);
    }

    /// <summary>Client side (simple form): writes C0 and C1.</summary>
    public static void WriteC0C1(IBufferWriter<byte> output)
    {
        var span = output.GetSpan(1 + PacketSize)[..(1 + PacketSize)];
        span[0] = Version;
        Fill(span[1..], null);
        BinaryPrimitives.WriteUInt32BigEndian(span[1..], 0);
        BinaryPrimitives.WriteUInt32BigEndian(span[5..], 0);
        output.Advance(1 + PacketSize);
    }

    /// <summary>Client side: reads S0 and S1 (1537 bytes) into <paramref name="s1"/>.</summary>
    public static bool TryReadS0S1(ref SequenceReader<byte> reader, Span<byte> s1) => TryReadC0C1(ref reader, s1);

    /// <summary>Client side: writes C2, the echo of S1.</summary>
    public static void WriteC2(ReadOnlySpan<byte> s1, IBufferWriter<byte> output)
    {
        s1[..PacketSize].CopyTo(output.GetSpan(PacketSize));
        output.Advance(PacketSize);
    }

    /// <summary>
    /// Finds a valid digest in a C1 (player key) or S1 (server key) packet, trying schema 1 then schema 0.
    /// Returns the digest offset, or -1 when neither validates.
    /// </summary>
    public static int FindDigest(ReadOnlySpan<byte> packet, ReadOnlySpan<byte> key, out int schemaBase)
    {
        Span<byte> digest = stackalloc byte[DigestLength];
        foreach (var candidate in (ReadOnlySpan<int>)[Schema1Base, Schema0Base])
        {
            var offset = DigestOffset(packet, candidate);
            ComputeDigest(packet, offset, key, digest);
            if (CryptographicOperations.FixedTimeEquals(digest, packet.Slice(offset, DigestLength)))
            {
                schemaBase = candidate;
                return offset;
            }
        }

        schemaBase = -1;
        return -1;
    }

    /// <summary>Digest offset for a schema base: sum of the four bytes at the base, mod 728, + base + 4.</summary>
    public static int DigestOffset(ReadOnlySpan<byte> packet, int schemaBase) =>
        ((packet[schemaBase] + packet[schemaBase + 1] + packet[schemaBase + 2] + packet[schemaBase + 3]) % DigestOffsetModulo) + schemaBase + 4;

    /// <summary>HMAC-SHA256 over the packet without the 32 digest bytes at <paramref name="offset"/>.</summary>
    public static void ComputeDigest(ReadOnlySpan<byte> packet, int offset, ReadOnlySpan<byte> key, Span<byte> destination)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        hmac.AppendData(packet[..offset]);
        hmac.AppendData(packet[(offset + DigestLength)..PacketSize]);
        hmac.GetHashAndReset(destination);
    }

    private static void Fill(Span<byte> span, Random? random)
    {
        if (random is null)
        {
            RandomNumberGenerator.Fill(span);
        }
        else
        {
            random.NextBytes(span);
        }
    }
}
