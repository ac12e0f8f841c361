using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using MediaServer.Rtmp;
using MediaServer.Rtmp.Handshake;

namespace MediaServer.Tests.Rtmp;

public class HandshakeTests
{
    // The public handshake keys, written out here independently of the product's constants.
    private static readonly byte[] Tail = Convert.FromHexString("F0EEC24A8068BEE82E00D0D1029E7E576EEC5D2D29806FAB93B8E636CFEB31AE");
    private static readonly byte[] PlayerKey30 = Encoding.ASCII.GetBytes("Genuine Adobe Flash Player 001");
    private static readonly byte[] ServerKey36 = Encoding.ASCII.GetBytes("Genuine Adobe Flash Media Server 001");
    private static readonly byte[] ServerKey68 = [.. ServerKey36, .. Tail];

    [Test]
    public void ServerHandshake_SimpleC1_EchoesC1AsS2()
    {
        // C0 = 03; C1 = time 00000000 | zero 00000000 | 1528 bytes i % 251
        var c1 = new byte[1536];
        for (var i = 8; i < c1.Length; i++)
        {
            c1[i] = (byte)(i % 251);
        }

        var input = new byte[] { 0x03 }.Concat(c1).ToArray();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(input));
        var read = new byte[1536];
        Assert.That(RtmpHandshake.TryReadC0C1(ref reader, read), Is.True);

        var output = new ArrayBufferWriter<byte>();
        RtmpHandshake.WriteS0S1S2(read, output, new Random(1));
        var s = output.WrittenSpan.ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(s.Length, Is.EqualTo(1 + 1536 + 1536));
            Assert.That(s[0], Is.EqualTo(0x03), "S0 version");
            Assert.That(Convert.ToHexString(s, 1, 8), Is.EqualTo("0000000000000000"), "S1 time + zero");
            Assert.That(s.AsSpan(1 + 1536).SequenceEqual(c1), Is.True, "S2 echoes C1");
        });
    }

    [TestCase(8, TestName = "ServerHandshake_DigestC1Schema0_RepliesWithValidDigests")]
    [TestCase(772, TestName = "ServerHandshake_DigestC1Schema1_RepliesWithValidDigests")]
    public void ServerHandshake_DigestC1_RepliesWithValidDigests(int schemaBase)
    {
        var c1 = DigestC1(schemaBase, out var c1DigestOffset);
        Assert.That(RtmpHandshake.FindDigest(c1, PlayerKey30, out var foundSchema), Is.EqualTo(c1DigestOffset));
        Assert.That(foundSchema, Is.EqualTo(schemaBase));

        var output = new ArrayBufferWriter<byte>();
        RtmpHandshake.WriteS0S1S2(c1, output, new Random(2));
        AssertDigestReply(c1, c1DigestOffset, schemaBase, output.WrittenSpan.ToArray());
    }

    /// <summary>
    /// Checks a server's S0 S1 S2 (3073 bytes) answering the digest <paramref name="c1"/>: version 3; S1 with a
    /// non-zero version and a digest keyed with the 36-byte server key at the client's schema; S2 ending in
    /// HMAC(HMAC(68-byte server key, C1 digest), S2[0..1504]).
    /// </summary>
    internal static void AssertDigestReply(byte[] c1, int c1DigestOffset, int schemaBase, byte[] s0s1s2)
    {
        Assert.That(s0s1s2, Has.Length.EqualTo(1 + 1536 + 1536));
        var s1 = s0s1s2.AsSpan(1, 1536).ToArray();
        var s2 = s0s1s2.AsSpan(1 + 1536, 1536).ToArray();

        var s1Offset = Offset(s1, schemaBase);
        var expectedS1Digest = Hmac(ServerKey36, [.. s1.AsSpan(0, s1Offset), .. s1.AsSpan(s1Offset + 32)]);

        var key = Hmac(ServerKey68, c1.AsSpan(c1DigestOffset, 32).ToArray());
        var expectedS2Digest = Hmac(key, s2[..1504]);
        Assert.Multiple(() =>
        {
            Assert.That(s0s1s2[0], Is.EqualTo(3), "S0 version");
            Assert.That(BinaryPrimitives.ReadUInt32BigEndian(s1.AsSpan(4)), Is.Not.Zero, "S1 version");
            Assert.That(s1.AsSpan(s1Offset, 32).ToArray(), Is.EqualTo(expectedS1Digest), "S1 digest");
            Assert.That(s2[1504..], Is.EqualTo(expectedS2Digest), "S2 digest");
            Assert.That(s2.AsSpan().SequenceEqual(c1), Is.False, "S2 is not the simple handshake's echo of C1");
        });
    }

    [Test]
    public void FindDigest_CorruptedDigest_ReturnsMinusOneAndServerFallsBackToEcho()
    {
        var c1 = DigestC1(8, out var offset);
        c1[offset] ^= 0xFF;
        Assert.That(RtmpHandshake.FindDigest(c1, PlayerKey30, out _), Is.EqualTo(-1));
        var output = new ArrayBufferWriter<byte>();
        RtmpHandshake.WriteS0S1S2(c1, output, new Random(3));
        Assert.That(output.WrittenSpan[(1 + 1536)..].SequenceEqual(c1), Is.True);
    }

    [Test]
    public void TryReadC0C1_Truncated_NeedsMoreBytes()
    {
        var input = new byte[1536]; // C0 and all but one byte of C1
        input[0] = 3;
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(input));
        Assert.That(RtmpHandshake.TryReadC0C1(ref reader, new byte[1536]), Is.False);
    }

    [Test]
    public void TryReadC0C1_Version6_ThrowsUnsupportedVersion()
    {
        var input = new byte[1537];
        input[0] = 6; // RTMPE
        var ex = Assert.Throws<RtmpProtocolException>(() =>
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(input));
            RtmpHandshake.TryReadC0C1(ref reader, new byte[1536]);
        });
        Assert.That(ex!.Reason, Is.EqualTo(RtmpProtocolError.UnsupportedHandshakeVersion));
    }

    /// <summary>Builds a Flash-9 style C1 with a valid digest at <paramref name="schemaBase"/>.</summary>
    internal static byte[] DigestC1(int schemaBase, out int digestOffset)
    {
        var c1 = new byte[1536];
        new Random(schemaBase).NextBytes(c1);
        BinaryPrimitives.WriteUInt32BigEndian(c1, 12345);
        BinaryPrimitives.WriteUInt32BigEndian(c1.AsSpan(4), 0x80000702); // ffmpeg's client version
        digestOffset = Offset(c1, schemaBase);
        var digest = Hmac(PlayerKey30, [.. c1.AsSpan(0, digestOffset), .. c1.AsSpan(digestOffset + 32)]);
        digest.CopyTo(c1, digestOffset);
        return c1;
    }

    private static int Offset(byte[] packet, int schemaBase) =>
        ((packet[schemaBase] + packet[schemaBase + 1] + packet[schemaBase + 2] + packet[schemaBase + 3]) % 728) + schemaBase + 4;

    private static byte[] Hmac(byte[] key, byte[] data) => HMACSHA256.HashData(key, data);
}
