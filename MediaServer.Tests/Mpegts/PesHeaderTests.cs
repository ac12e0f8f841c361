using FsCheck;
using FsCheck.Fluent;
using MediaServer.Core.Mpegts;
using PropertyAttribute = FsCheck.NUnit.PropertyAttribute;

namespace MediaServer.Tests.Mpegts;

public class PesHeaderTests
{
    [Test]
    public void Write_VideoWithDts_Golden()
    {
        var bytes = new byte[19];
        var length = new PesHeader(PesHeader.VideoStreamId, 129_600, 126_000, 100).Write(bytes);

        // 000001 e0 | 0071: 13 header bytes after the length + 100 = 113 | 84: '10', data alignment | c0: PTS+DTS | 0a
        // PTS 129600 = 0x1FA40: 31 (0011, bits 32..30 = 0, marker) 00 (bits 29..22) 07 (bits 21..15 = 3, marker)
        //   f4 81 (bits 14..0 = 0x7A40, marker)
        // DTS 126000 = 0x1EC30: 11 (0001, marker) 00 07 d8 61 (bits 14..0 = 0x6C30)
        Assert.That(length, Is.EqualTo(19));
        Assert.That(Convert.ToHexStringLower(bytes), Is.EqualTo("000001e0007184c00a310007f481110007d861"));
    }

    [Test]
    public void Write_AudioPtsOnly_Golden()
    {
        var bytes = new byte[14];
        var length = new PesHeader(PesHeader.AudioStreamId, 126_000, 126_000, 10).Write(bytes);

        // 000001 c0 | 0012: 8 + 10 | 84 | 80: PTS only | 05 | 21 00 07 d8 61: prefix 0010, PTS 126000
        Assert.That(length, Is.EqualTo(14));
        Assert.That(Convert.ToHexStringLower(bytes), Is.EqualTo("000001c0001284800521" + "0007d861"));
    }

    [Test]
    public void PacketLengthField_LargeVideo_IsZero()
    {
        Assert.That(new PesHeader(PesHeader.VideoStreamId, 1, 0, 65_535 - 13).PacketLengthField, Is.EqualTo(65_535));
        Assert.That(new PesHeader(PesHeader.VideoStreamId, 1, 0, 65_535 - 12).PacketLengthField, Is.Zero);
    }

    [Test]
    public void WriteTimestamp_Above33Bits_WritesModulo()
    {
        var wrapped = new byte[5];
        var plain = new byte[5];
        PesHeader.WriteTimestamp(wrapped, 2, (1L << 33) + 12345);
        PesHeader.WriteTimestamp(plain, 2, 12345);
        Assert.That(wrapped, Is.EqualTo(plain));
    }

    [Property(MaxTest = 300, Replay = "(17,19)")]
    public Property Roundtrip_Timestamp() =>
        Prop.ForAll((from hi in Gen.Choose(0, 3) from lo in Gen.Choose(0, int.MaxValue) select ((long)hi << 31) | (uint)lo).ToArbitrary(), ts =>
        {
            var bytes = new byte[5];
            PesHeader.WriteTimestamp(bytes, 3, ts);
            return PesHeader.ReadTimestamp(bytes) == ts && (bytes[0] & 1) == 1 && (bytes[2] & 1) == 1 && (bytes[4] & 1) == 1 && bytes[0] >> 4 == 3;
        });
}
