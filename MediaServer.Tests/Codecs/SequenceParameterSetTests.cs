using MediaServer.Core.Codecs;
using MediaServer.Core.Codecs.H264;
using MediaServer.Tests.Infrastructure;

namespace MediaServer.Tests.Codecs;

public class SequenceParameterSetTests
{
    [Test]
    public void Parse_X264HighSps_GivesSizeProfileLevel()
    {
        var record = AvcDecoderConfigurationRecord.Parse(MediaTestData.Hex(MediaTestData.X264HighAvcC));

        var sps = SequenceParameterSet.Parse(record.SequenceParameterSets[0]);

        Assert.That(sps, Is.EqualTo(new SequenceParameterSet(100, 0, 13, 0, 1, 320, 240)));
    }

    [TestCase(640, 360, "baseline")]
    [TestCase(1280, 720, "main")]
    [TestCase(176, 144, "high")]
    [TestCase(1920, 1080, "high")]
    public void Parse_FfmpegEncodedSps_MatchesEncodedSize(int width, int height, string profile)
    {
        Tools.RequireFfmpeg();
        using var dir = MediaTestData.TempDirectory("sps");
        var path = Path.Combine(dir, "a.h264");
        var (code, _, stderr) = MediaTestData.Run("ffmpeg", "-v", "error", "-f", "lavfi", "-i", $"testsrc=size={width}x{height}:rate=25", "-frames:v", "1", "-c:v", "libx264", "-profile:v", profile, "-pix_fmt", "yuv420p", "-f", "h264", path);
        Assert.That(code, Is.Zero, stderr);

        var spsNal = MediaTestData.SplitAnnexB(File.ReadAllBytes(path)).First(n => (n[0] & 0x1F) == 7);
        var sps = SequenceParameterSet.Parse(spsNal);

        Assert.Multiple(() =>
        {
            Assert.That(sps.Width, Is.EqualTo(width));
            Assert.That(sps.Height, Is.EqualTo(height));
            Assert.That(sps.ProfileIdc, Is.EqualTo(profile switch { "baseline" => 66, "main" => 77, _ => 100 }));
        });
    }

    /// <summary>
    /// Baseline 320x240 SPS with frame_crop_left_offset 2^32-2 and frame_crop_right_offset 2 (H.264 §7.4.2.1.1):
    /// 42 c0 1e profile/constraints/level | 1 id 0 | 1 log2_max_frame_num 0 | 011 poc type 2 | 1 refs 0 | 0 gaps |
    /// 000010100 width 20 MBs | 0001111 height 15 | 1 frame_mbs_only | 1 direct_8x8 | 1 cropping |
    /// 31 zeros 1 + 31 ones: left 2^32-2 | 011 right 2 | 1 top 0 | 1 bottom 0 | 0 no VUI | 1 stop bit
    /// (with an emulation prevention byte). The offsets summed in 32 bits wrapped to 0, so the SPS was taken
    /// as uncropped 320x240 instead of refused (found reviewing the SPS fuzz target's inputs).
    /// </summary>
    [Test]
    public void Parse_CropOffsetsSummingPast32Bits_ThrowsInvalidValue()
    {
        var ex = Assert.Throws<CodecException>(() => SequenceParameterSet.Parse(MediaTestData.Hex("6742c01edc141fc0000003007fffffffbd")));
        Assert.That(ex!.Error, Is.EqualTo(CodecError.InvalidValue));
    }

    [Test]
    public void Parse_Truncated_ThrowsTruncated()
    {
        var record = AvcDecoderConfigurationRecord.Parse(MediaTestData.Hex(MediaTestData.X264HighAvcC));
        var ex = Assert.Throws<CodecException>(() => SequenceParameterSet.Parse(record.SequenceParameterSets[0].AsSpan(0, 8)));
        Assert.That(ex!.Error, Is.EqualTo(CodecError.Truncated));
    }

    [Test]
    public void Parse_NotAnSps_ThrowsInvalidValue()
    {
        var ex = Assert.Throws<CodecException>(() => SequenceParameterSet.Parse([0x68, 0xEB, 0xE3, 0xCB, 0x22]));
        Assert.That(ex!.Error, Is.EqualTo(CodecError.InvalidValue));
    }

    [Test]
    public void Parse_ExpGolombLongerThan32Bits_Throws()
    {
        byte[] nal = [0x67, 0x42, 0x00, 0x1E, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01];
        var ex = Assert.Throws<CodecException>(() => SequenceParameterSet.Parse(nal));
        Assert.That(ex!.Error, Is.EqualTo(CodecError.InvalidExpGolomb));
    }
}
