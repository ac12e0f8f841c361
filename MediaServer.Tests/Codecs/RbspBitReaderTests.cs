using MediaServer.Core.Codecs;

namespace MediaServer.Tests.Codecs;

public class RbspBitReaderTests
{
    [Test]
    public void ReadBits_EmulationPreventionByte_IsDropped()
    {
        // 00 00 03 01: the 03 is an emulation prevention byte, the RBSP is 00 00 01.
        var reader = new RbspBitReader([0x00, 0x00, 0x03, 0x01, 0x80]);

        Assert.That(reader.ReadBits(24), Is.EqualTo(0x000001u));
        Assert.That(reader.ReadBit(), Is.EqualTo(1u));
    }

    [Test]
    public void ReadBits_ThreeAfterSingleZero_IsData()
    {
        var reader = new RbspBitReader([0x00, 0x03, 0x00, 0x00, 0x03, 0x03]);

        Assert.That(reader.ReadBits(32), Is.EqualTo(0x00030000u));
        Assert.That(reader.ReadBits(8), Is.EqualTo(0x03u)); // 00 00 [03 dropped] 03
    }

    [Test]
    public void ReadUe_ZeroBytesAcrossEmulationPrevention_DecodesLongCode()
    {
        // ue(v) with 17 leading zeros: 0000 0000 | 0000 0000 | [03] | 0 1 000000 | 00000000 | 001 → value 2^17 - 1 + 1
        var reader = new RbspBitReader([0x00, 0x00, 0x03, 0x40, 0x00, 0x20]);

        Assert.That(reader.ReadUe(), Is.EqualTo((1u << 17) - 1 + 1));
    }

    [TestCase(new byte[] { 0b1000_0000 }, 0u)]
    [TestCase(new byte[] { 0b0100_0000 }, 1u)]
    [TestCase(new byte[] { 0b0110_0000 }, 2u)]
    [TestCase(new byte[] { 0b0010_0000 }, 3u)]
    [TestCase(new byte[] { 0b0001_0100 }, 9u)]
    public void ReadUe_Table9_2_Decodes(byte[] data, uint expected)
    {
        var reader = new RbspBitReader(data);
        Assert.That(reader.ReadUe(), Is.EqualTo(expected));
    }

    [TestCase(new byte[] { 0b0100_0000 }, 1)]
    [TestCase(new byte[] { 0b0110_0000 }, -1)]
    [TestCase(new byte[] { 0b0010_0000 }, 2)]
    [TestCase(new byte[] { 0b0010_1000 }, -2)]
    public void ReadSe_Table9_3_Decodes(byte[] data, int expected)
    {
        var reader = new RbspBitReader(data);
        Assert.That(reader.ReadSe(), Is.EqualTo(expected));
    }

    [Test]
    public void ReadBit_PastEnd_ThrowsTruncated()
    {
        var ex = Assert.Throws<CodecException>(() =>
        {
            var reader = new RbspBitReader([0xFF]);
            reader.ReadBits(9);
        });
        Assert.That(ex!.Error, Is.EqualTo(CodecError.Truncated));
    }
}
