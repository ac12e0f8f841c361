using System.Buffers;
using FsCheck;
using FsCheck.Fluent;
using MediaServer.Core.Codecs;
using MediaServer.Core.Codecs.H264;
using MediaServer.Tests.Infrastructure;
using PropertyAttribute = FsCheck.NUnit.PropertyAttribute;

namespace MediaServer.Tests.Codecs;

public class AvcDecoderConfigurationRecordTests
{
    [Test]
    public void Parse_X264HighRecord_ReadsEveryField()
    {
        var record = AvcDecoderConfigurationRecord.Parse(MediaTestData.Hex(MediaTestData.X264HighAvcC));

        Assert.Multiple(() =>
        {
            Assert.That(record.ProfileIndication, Is.EqualTo(100));
            Assert.That(record.ProfileCompatibility, Is.Zero);
            Assert.That(record.LevelIndication, Is.EqualTo(13));
            Assert.That(record.NalUnitLengthSize, Is.EqualTo(4));
            Assert.That(record.SequenceParameterSets, Has.Count.EqualTo(1));
            Assert.That(Convert.ToHexStringLower(record.SequenceParameterSets[0]), Is.EqualTo("6764000dacd94141fb011000000300100000030320f1429960"));
            Assert.That(record.PictureParameterSets, Has.Count.EqualTo(1));
            Assert.That(Convert.ToHexStringLower(record.PictureParameterSets[0]), Is.EqualTo("68ebe3cb22c0"));
        });
    }

    [Test]
    public void Write_X264HighRecord_ReproducesBytesWithoutHighProfileExtension()
    {
        var bytes = MediaTestData.Hex(MediaTestData.X264HighAvcC);
        var output = new ArrayBufferWriter<byte>();

        AvcDecoderConfigurationRecord.Parse(bytes).Write(output);

        Assert.That(output.WrittenSpan.ToArray(), Is.EqualTo(bytes[..^4]));
    }

    [TestCase("", CodecError.Truncated)]
    [TestCase("0164000dff", CodecError.Truncated)]
    [TestCase("0264000dffe1000167", CodecError.InvalidVersion)]
    [TestCase("0164000dfee100016700", CodecError.InvalidValue)] // lengthSizeMinusOne = 2
    [TestCase("0164000dffe1001967", CodecError.Truncated)] // SPS length 25, 1 byte present
    [TestCase("0164000dffe1000000", CodecError.InvalidLength)] // empty SPS
    [TestCase("0164000dffe1000167", CodecError.Truncated)] // no PPS count
    [TestCase("0164000dffe100016741", CodecError.TooMany)] // 65 PPS
    [TestCase("0164000dffe1000167010005", CodecError.Truncated)]
    public void Parse_Malformed_ThrowsWithReason(string hex, CodecError error)
    {
        var ex = Assert.Throws<CodecException>(() => AvcDecoderConfigurationRecord.Parse(MediaTestData.Hex(hex)));
        Assert.That(ex!.Error, Is.EqualTo(error));
    }

    [Test]
    public void Parse_ParameterSetAboveLimit_Throws()
    {
        var bytes = MediaTestData.Hex("0164000dffe1" + "2001" + new string('0', 2 * 0x2001));
        var ex = Assert.Throws<CodecException>(() => AvcDecoderConfigurationRecord.Parse(bytes));
        Assert.That(ex!.Error, Is.EqualTo(CodecError.InvalidLength));
    }

    [Property(MaxTest = 200, Replay = "(12345,67891)")]
    public Property Roundtrip_Record()
    {
        var set = Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>()).Where(a => a.Length is > 0 and < 100);
        var gen =
            from profile in ArbMap.Default.GeneratorFor<byte>()
            from compat in ArbMap.Default.GeneratorFor<byte>()
            from level in ArbMap.Default.GeneratorFor<byte>()
            from lengthSize in Gen.Elements(1, 2, 4)
            from spsCount in Gen.Choose(0, 3)
            from sps in Gen.ArrayOf(set, spsCount)
            from ppsCount in Gen.Choose(0, 3)
            from pps in Gen.ArrayOf(set, ppsCount)
            select new AvcDecoderConfigurationRecord(profile, compat, level, lengthSize, sps, pps);
        return Prop.ForAll(gen.ToArbitrary(), record =>
        {
            var output = new ArrayBufferWriter<byte>();
            record.Write(output);
            var parsed = AvcDecoderConfigurationRecord.Parse(output.WrittenSpan);
            return output.WrittenCount == record.Length
                && parsed.ProfileIndication == record.ProfileIndication
                && parsed.ProfileCompatibility == record.ProfileCompatibility
                && parsed.LevelIndication == record.LevelIndication
                && parsed.NalUnitLengthSize == record.NalUnitLengthSize
                && parsed.SequenceParameterSets.Zip(record.SequenceParameterSets).All(p => p.First.SequenceEqual(p.Second))
                && parsed.SequenceParameterSets.Count == record.SequenceParameterSets.Count
                && parsed.PictureParameterSets.Count == record.PictureParameterSets.Count
                && parsed.PictureParameterSets.Zip(record.PictureParameterSets).All(p => p.First.SequenceEqual(p.Second));
        });
    }
}
