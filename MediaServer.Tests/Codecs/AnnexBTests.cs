using System.Buffers;
using FsCheck;
using FsCheck.Fluent;
using MediaServer.Core.Codecs;
using MediaServer.Tests.Infrastructure;
using PropertyAttribute = FsCheck.NUnit.PropertyAttribute;

namespace MediaServer.Tests.Codecs;

public class AnnexBTests
{
    [Test]
    public void Convert_TwoNalUnits_WritesStartCodes()
    {
        // 00000002 | 09 f0 (AUD) | 00000003 | 65 88 84 (IDR slice)
        var avcc = MediaTestData.Hex("00000002 09f0 00000003 658884");
        var output = new ArrayBufferWriter<byte>();

        var written = AnnexB.Convert(avcc, 4, output);

        Assert.That(Convert.ToHexStringLower(output.WrittenSpan), Is.EqualTo("0000000109f000000001658884"));
        Assert.That(written, Is.EqualTo(13));
    }

    [TestCase(1, "02 09f0 03 658884")]
    [TestCase(2, "0002 09f0 0003 658884")]
    public void Convert_ShortLengthPrefixes_Supported(int lengthSize, string hex)
    {
        var output = new ArrayBufferWriter<byte>();
        AnnexB.Convert(MediaTestData.Hex(hex), lengthSize, output);
        Assert.That(Convert.ToHexStringLower(output.WrittenSpan), Is.EqualTo("0000000109f000000001658884"));
    }

    [TestCase("00000002 09f0 00000004 658884", CodecError.InvalidLength)] // length says 4, 3 remain
    [TestCase("00000002 09f0 0000", CodecError.Truncated)] // half a length field
    [TestCase("ffffffff 09f0", CodecError.InvalidLength)] // length above int range
    public void Convert_LyingLength_ThrowsAndWritesNothing(string hex, CodecError error)
    {
        var output = new ArrayBufferWriter<byte>();
        var ex = Assert.Throws<CodecException>(() => AnnexB.Convert(MediaTestData.Hex(hex), 4, output));
        Assert.That(ex!.Error, Is.EqualTo(error));
        Assert.That(output.WrittenCount, Is.Zero);
    }

    [Test]
    public void Convert_TooManyNalUnits_Throws()
    {
        var avcc = new byte[(LengthPrefixedNalReader.MaxNalUnitsPerAccessUnit + 1) * 2];
        for (var i = 0; i < avcc.Length; i += 2)
        {
            avcc[i] = 1;
            avcc[i + 1] = 0x09;
        }

        var ex = Assert.Throws<CodecException>(() => AnnexB.Convert(avcc, 1, new ArrayBufferWriter<byte>()));
        Assert.That(ex!.Error, Is.EqualTo(CodecError.TooMany));
    }

    [Test]
    public void Convert_InvalidLengthSize_Throws()
    {
        var ex = Assert.Throws<CodecException>(() => AnnexB.Convert([0, 0, 1, 9], 3, new ArrayBufferWriter<byte>()));
        Assert.That(ex!.Error, Is.EqualTo(CodecError.InvalidValue));
    }

    [Test]
    public void Convert_EmptyNalUnit_IsSkipped()
    {
        var output = new ArrayBufferWriter<byte>();
        AnnexB.Convert(MediaTestData.Hex("00000000 00000002 09f0"), 4, output);
        Assert.That(Convert.ToHexStringLower(output.WrittenSpan), Is.EqualTo("0000000109f0"));
    }

    [Property(MaxTest = 200, Replay = "(4242,2425)")]
    public Property Convert_AnyNalUnits_EqualsIndependentlyBuiltAnnexB()
    {
        var nal = Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>()).Where(a => a.Length is > 0 and < 300);
        return Prop.ForAll(Gen.ArrayOf(nal).Where(a => a.Length < 20).ToArbitrary(), units =>
        {
            var output = new ArrayBufferWriter<byte>();
            AnnexB.Convert(MediaTestData.Avcc(units), 4, output);
            return output.WrittenSpan.SequenceEqual(MediaTestData.AnnexB(units));
        });
    }
}
