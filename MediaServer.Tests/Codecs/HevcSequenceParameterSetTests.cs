using MediaServer.Core.Codecs;
using MediaServer.Core.Codecs.Hevc;
using MediaServer.Tests.Infrastructure;

namespace MediaServer.Tests.Codecs;

public class HevcSequenceParameterSetTests
{
    // SPS NAL units from x265 (ffmpeg 5.1, libx265 -x265-params info=0), taken from the mp4's hvcC.
    // 4201 NAL header (type 33) | 01: vps 0, max_sub_layers_minus1 0, nesting 1 | 60000000 9000000000 00 3c: Main, level 60
    private const string Sps320x240 = "42010101600000030090000003000003003ca00a080f165959a4932bc05a02000003000200000300321022";

    // 318x238: coded 320x240 with a conformance window of one chroma sample right and bottom (2 luma samples each).
    private const string Sps318x238 = "42010101600000030090000003000003003ca00a080f1d565959a4932bc05a020000030002000003003210";

    [TestCase(Sps320x240, 320, 240)]
    [TestCase(Sps318x238, 318, 238)]
    public void Parse_X265Sps_CroppedSize(string hex, int width, int height)
    {
        var sps = HevcSequenceParameterSet.Parse(Hex.Parse(hex));

        Assert.That((sps.ProfileIdc, sps.LevelIdc, sps.ChromaFormatIdc, sps.Width, sps.Height), Is.EqualTo(((byte)1, (byte)60, 1u, width, height)));
    }

    [Test]
    public void Parse_X265Sps_ProfileTierLevelSubLayersAndBitDepths()
    {
        var sps = HevcSequenceParameterSet.Parse(Hex.Parse(Sps320x240));

        // 01: max_sub_layers_minus1 0, temporal_id_nesting 1; PTL 01 60000000 900000000000 3c (see above).
        Assert.That(sps.ProfileTierLevel, Is.EqualTo(new HevcProfileTierLevel(0, false, 1, 0x60000000u, 0x900000000000ul, 60)));
        Assert.That((sps.MaxSubLayersMinus1, sps.TemporalIdNesting, sps.BitDepthLumaMinus8, sps.BitDepthChromaMinus8), Is.EqualTo(((byte)0, true, (byte)0, (byte)0)));
    }

    [Test]
    public void Parse_TruncatedOrNotAnSps_Throws()
    {
        Assert.Throws<CodecException>(() => HevcSequenceParameterSet.Parse(Hex.Parse(Sps320x240).AsSpan(0, 20)));
        Assert.Throws<CodecException>(() => HevcSequenceParameterSet.Parse(Hex.Parse("40010c01ffff016000000300")));
    }
}
