using MediaServer.Core.Codecs;
using MediaServer.Core.Media;
using MediaServer.Tests.Infrastructure;

namespace MediaServer.Tests.Codecs;

public class CodecStringsTests
{
    [Test]
    public void Describe_X264HighAvcC_GivesAvc1StringAndPictureSize()
    {
        // profile_idc 0x64 (High), constraint flags 0x00, level_idc 0x0d (1.3); SPS says 320x240.
        var description = CodecStrings.Describe(MediaCodec.H264, MediaTestData.Hex(MediaTestData.X264HighAvcC));

        Assert.That(description, Is.EqualTo(new CodecDescription("avc1.64000d", 320, 240)));
    }

    [Test]
    public void Describe_X265MainHvcC_GivesHvc1StringWithReversedCompatibilityFlags()
    {
        // The hvcC head of HevcDecoderConfigurationRecordTests: profile 1, compatibility 0x60000000
        // (reversed: 0x6), tier Main, level 60, constraint bytes 90 00 00 00 00 00 (trailing zeros dropped).
        var hvcc = MediaTestData.Hex("0101600000009000000000003cf000fcfdf8f800000f01a000010004" + "40010c01");

        var description = CodecStrings.Describe(MediaCodec.Hevc, hvcc);

        Assert.That(description, Is.EqualTo(new CodecDescription("hvc1.1.6.L60.90")));
    }

    [TestCase("1210", "mp4a.40.2", TestName = "Describe_AacLc_Mp4a402")]
    [TestCase("2b118800", "mp4a.40.5", TestName = "Describe_ExplicitSbr_Mp4a405")]
    public void Describe_Aac(string asc, string expected) =>
        Assert.That(CodecStrings.Describe(MediaCodec.Aac, MediaTestData.Hex(asc)).Codec, Is.EqualTo(expected));

    [Test]
    public void Describe_Mp3_Mp4a4034() =>
        Assert.That(CodecStrings.Describe(MediaCodec.Mp3, default).Codec, Is.EqualTo("mp4a.40.34"));

    [TestCase(MediaCodec.H264, "0164")]
    [TestCase(MediaCodec.Hevc, "01")]
    [TestCase(MediaCodec.Aac, "")]
    [TestCase(MediaCodec.Opus, "00")]
    public void Describe_TruncatedOrUnknown_IsUnknownNotAnException(MediaCodec codec, string hex) =>
        Assert.That(CodecStrings.Describe(codec, MediaTestData.Hex(hex)).Codec, Is.Null);
}
