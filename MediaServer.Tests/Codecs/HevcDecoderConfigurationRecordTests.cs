using System.Buffers;
using System.Buffers.Binary;
using FsCheck;
using FsCheck.Fluent;
using MediaServer.Core.Codecs;
using MediaServer.Core.Codecs.Hevc;
using MediaServer.Tests.Infrastructure;
using PropertyAttribute = FsCheck.NUnit.PropertyAttribute;

namespace MediaServer.Tests.Codecs;

public class HevcDecoderConfigurationRecordTests
{
    // Head of the hvcC ffmpeg 5.1 + x265 3.5 wrote for testsrc 320x240 (-tag:v hvc1), VPS array only:
    // 01 version | 01 space 0, tier 0, profile Main | 60000000 compat | 900000000000 constraints
    // | 3c level 2 (60) | f000 min spatial 0 | fc parallelism 0 | fd chroma 4:2:0 | f8 luma 8 bit | f8 chroma 8 bit
    // | 0000 avg frame rate | 0f cfr 0, 1 temporal layer, nested, length 4 | 01 one array
    // | a0 complete, VPS | 0001 one unit | 0004 length | 40010c01 (VPS header + 2 bytes)
    private const string Golden = "0101600000009000000000003cf000fcfdf8f800000f01a000010004" + "40010c01";

    [Test]
    public void Parse_Golden_ReadsEveryField()
    {
        var record = HevcDecoderConfigurationRecord.Parse(MediaTestData.Hex(Golden));

        Assert.Multiple(() =>
        {
            Assert.That(record.GeneralProfileIdc, Is.EqualTo(1));
            Assert.That(record.GeneralTierFlag, Is.False);
            Assert.That(record.GeneralProfileCompatibilityFlags, Is.EqualTo(0x60000000u));
            Assert.That(record.GeneralConstraintIndicatorFlags, Is.EqualTo(0x900000000000ul));
            Assert.That(record.GeneralLevelIdc, Is.EqualTo(60));
            Assert.That(record.ChromaFormat, Is.EqualTo(1));
            Assert.That(record.NumTemporalLayers, Is.EqualTo(1));
            Assert.That(record.TemporalIdNested, Is.True);
            Assert.That(record.NalUnitLengthSize, Is.EqualTo(4));
            Assert.That(record.Arrays, Has.Count.EqualTo(1));
            Assert.That(record.Arrays[0].NalUnitType, Is.EqualTo(HevcNalUnitType.VideoParameterSet));
            Assert.That(record.Arrays[0].ArrayCompleteness, Is.True);
            Assert.That(Convert.ToHexStringLower(record.Arrays[0].NalUnits[0]), Is.EqualTo("40010c01"));
        });
    }

    [Test]
    public void Parse_X265RecordFromFfmpeg_HasVpsSpsPpsInOrder()
    {
        Tools.RequireFfmpeg();
        using var dir = MediaTestData.TempDirectory("hvcc");
        var path = Path.Combine(dir, "a.mp4");
        var (code, _, stderr) = MediaTestData.Run("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-frames:v", "2", "-c:v", "libx265", "-x265-params", "log-level=none", "-tag:v", "hvc1", path);
        Assert.That(code, Is.Zero, stderr);
        var mp4 = File.ReadAllBytes(path);
        var box = mp4.AsSpan().IndexOf("hvcC"u8);
        var size = BinaryPrimitives.ReadInt32BigEndian(mp4.AsSpan(box - 4));
        var bytes = mp4.AsSpan(box + 4, size - 8);

        var record = HevcDecoderConfigurationRecord.Parse(bytes);

        Assert.That(record.Arrays.Select(a => a.NalUnitType).Take(3), Is.EqualTo(new[] { HevcNalUnitType.VideoParameterSet, HevcNalUnitType.SequenceParameterSet, HevcNalUnitType.PictureParameterSet }));
        Assert.That(record.Arrays.SelectMany(a => a.NalUnits).All(n => HevcNal.GetType(n[0]) == record.Arrays.First(a => a.NalUnits.Contains(n)).NalUnitType), Is.True);
        var output = new ArrayBufferWriter<byte>();
        record.Write(output);
        Assert.That(output.WrittenSpan.ToArray(), Is.EqualTo(bytes.ToArray()), "x265 sets every reserved bit, so the record round-trips exactly");
    }

    /// <summary>
    /// Our record from the first VPS/SPS/PPS of x265's Annex B stream against the hvcC ffmpeg's MP4 muxer writes for
    /// the same stream (ISO/IEC 14496-15 §8.3.3, its own SPS parser): field by field, then byte for byte. x265's
    /// info SEI is turned off (<c>info=0</c>): ffmpeg would put it in an array of its own, which we do not.
    /// </summary>
    [TestCase("yuv420p", "", 1, 0, 0, 1, TestName = "FromParameterSets_X265Main_MatchesFfmpegHvcC")]
    [TestCase("yuv420p10le", "", 2, 2, 2, 1, TestName = "FromParameterSets_X265Main10_MatchesFfmpegHvcC")]
    [TestCase("yuv422p10le", "", 4, 2, 2, 2, TestName = "FromParameterSets_X265Main422_10_MatchesFfmpegHvcC")]
    [TestCase("yuv444p", ":high-tier=1:level-idc=4.1", 4, 0, 0, 3, TestName = "FromParameterSets_X265Main444HighTier_MatchesFfmpegHvcC")]
    [TestCase("yuv420p", ":b-pyramid=1:bframes=4:temporal-layers=1", 1, 0, 0, 1, TestName = "FromParameterSets_X265TemporalLayers_MatchesFfmpegHvcC")]
    public void FromParameterSets_X265_MatchesFfmpegHvcC(string pixelFormat, string x265Params, int profile, int lumaMinus8, int chromaMinus8, int chroma)
    {
        Tools.RequireFfmpeg();
        var mp4 = TestMedia.Generate($"hvcc-{pixelFormat}", ".mp4",
            $"-f lavfi -i testsrc=size=320x240:rate=25:duration=0.4 -c:v libx265 -pix_fmt {pixelFormat} "
            + $"-x265-params log-level=none:info=0{x265Params} -tag:v hvc1");
        var annexB = TestMedia.Generate($"hvcc-{pixelFormat}", ".hevc", $"-i \"{mp4}\" -c copy -f hevc");
        var file = File.ReadAllBytes(mp4);
        var box = file.AsSpan().IndexOf("hvcC"u8);
        var ffmpegBytes = file.AsSpan(box + 4, BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(box - 4)) - 8).ToArray();
        var ffmpeg = HevcDecoderConfigurationRecord.Parse(ffmpegBytes);
        var units = MediaTestData.SplitAnnexB(File.ReadAllBytes(annexB));
        byte[] First(HevcNalUnitType type) => units.First(n => HevcNal.GetType(n[0]) == type);

        var ours = HevcDecoderConfigurationRecord.FromParameterSets(
            First(HevcNalUnitType.VideoParameterSet), First(HevcNalUnitType.SequenceParameterSet), First(HevcNalUnitType.PictureParameterSet));

        Assert.Multiple(() =>
        {
            Assert.That(ours.GeneralProfileSpace, Is.EqualTo(ffmpeg.GeneralProfileSpace), "general_profile_space");
            Assert.That(ours.GeneralTierFlag, Is.EqualTo(ffmpeg.GeneralTierFlag), "general_tier_flag");
            Assert.That(ours.GeneralProfileIdc, Is.EqualTo(ffmpeg.GeneralProfileIdc).And.EqualTo(profile), "general_profile_idc");
            Assert.That(ours.GeneralProfileCompatibilityFlags, Is.EqualTo(ffmpeg.GeneralProfileCompatibilityFlags), "general_profile_compatibility_flags");
            Assert.That(ours.GeneralConstraintIndicatorFlags, Is.EqualTo(ffmpeg.GeneralConstraintIndicatorFlags), "general_constraint_indicator_flags");
            Assert.That(ours.GeneralLevelIdc, Is.EqualTo(ffmpeg.GeneralLevelIdc), "general_level_idc");
            Assert.That(ours.MinSpatialSegmentationIdc, Is.EqualTo(ffmpeg.MinSpatialSegmentationIdc), "min_spatial_segmentation_idc");
            Assert.That(ours.ParallelismType, Is.EqualTo(ffmpeg.ParallelismType), "parallelismType");
            Assert.That(ours.ChromaFormat, Is.EqualTo(ffmpeg.ChromaFormat).And.EqualTo(chroma), "chromaFormat");
            Assert.That(ours.BitDepthLumaMinus8, Is.EqualTo(ffmpeg.BitDepthLumaMinus8).And.EqualTo(lumaMinus8), "bitDepthLumaMinus8");
            Assert.That(ours.BitDepthChromaMinus8, Is.EqualTo(ffmpeg.BitDepthChromaMinus8).And.EqualTo(chromaMinus8), "bitDepthChromaMinus8");
            Assert.That(ours.AvgFrameRate, Is.EqualTo(ffmpeg.AvgFrameRate), "avgFrameRate");
            Assert.That(ours.ConstantFrameRate, Is.EqualTo(ffmpeg.ConstantFrameRate), "constantFrameRate");
            Assert.That(ours.NumTemporalLayers, Is.EqualTo(ffmpeg.NumTemporalLayers), "numTemporalLayers");
            Assert.That(ours.TemporalIdNested, Is.EqualTo(ffmpeg.TemporalIdNested), "temporalIdNested");
            Assert.That(ours.NalUnitLengthSize, Is.EqualTo(ffmpeg.NalUnitLengthSize), "lengthSizeMinusOne + 1");
            Assert.That(ours.Arrays.Select(a => (a.ArrayCompleteness, a.NalUnitType)), Is.EqualTo(ffmpeg.Arrays.Select(a => (a.ArrayCompleteness, a.NalUnitType))), "arrays");
        });
        var written = new ArrayBufferWriter<byte>();
        ours.Write(written);
        Assert.That(Convert.ToHexStringLower(written.WrittenSpan), Is.EqualTo(Convert.ToHexStringLower(ffmpegBytes)), "byte for byte");
    }

    [Test]
    public void FromParameterSets_UnitOfWrongTypeOrEmpty_Throws()
    {
        // x265's VPS, SPS and PPS for testsrc 320x240 (TestMedia.HevcAnnexB).
        var vps = MediaTestData.Hex("40010c01ffff01600000030090000003000003003c959809");
        var sps = MediaTestData.Hex("42010101600000030090000003000003003ca00a080f165959a4932bc05a02000003000200000300321022");
        var pps = MediaTestData.Hex("4401c172b46240");

        Assert.That(HevcDecoderConfigurationRecord.FromParameterSets(vps, sps, pps).Arrays, Has.Count.EqualTo(3));
        Assert.That(Assert.Throws<CodecException>(() => HevcDecoderConfigurationRecord.FromParameterSets(sps, sps, pps))!.Error, Is.EqualTo(CodecError.InvalidValue));
        Assert.That(Assert.Throws<CodecException>(() => HevcDecoderConfigurationRecord.FromParameterSets(vps, pps, pps))!.Error, Is.EqualTo(CodecError.InvalidValue));
        Assert.That(Assert.Throws<CodecException>(() => HevcDecoderConfigurationRecord.FromParameterSets(vps, sps, []))!.Error, Is.EqualTo(CodecError.InvalidLength));
    }

    [TestCase("01", CodecError.Truncated)]
    [TestCase("0001600000009000000000003cf000fcfdf8f800000f00", CodecError.InvalidVersion)]
    [TestCase("0101600000009000000000003cf000fcfdf8f800000e00", CodecError.InvalidValue)] // lengthSizeMinusOne 2
    [TestCase("0101600000009000000000003cf000fcfdf8f800000f11", CodecError.TooMany)] // 17 arrays
    [TestCase("0101600000009000000000003cf000fcfdf8f800000f01a00041", CodecError.TooMany)] // 65 units
    [TestCase("0101600000009000000000003cf000fcfdf8f800000f01a000010005" + "40010c01", CodecError.Truncated)]
    [TestCase("0101600000009000000000003cf000fcfdf8f800000f01a000010000", CodecError.InvalidLength)]
    [TestCase("0101600000009000000000003cf000fcfdf8f800000f01a000", CodecError.Truncated)]
    public void Parse_Malformed_ThrowsWithReason(string hex, CodecError error)
    {
        var ex = Assert.Throws<CodecException>(() => HevcDecoderConfigurationRecord.Parse(MediaTestData.Hex(hex)));
        Assert.That(ex!.Error, Is.EqualTo(error));
    }

    [TestCase(HevcNalUnitType.BlaWLp, true)]
    [TestCase(HevcNalUnitType.IdrWRadl, true)]
    [TestCase(HevcNalUnitType.CraNut, true)]
    [TestCase(HevcNalUnitType.RsvIrapVcl23, true)]
    [TestCase(HevcNalUnitType.TrailR, false)]
    [TestCase(HevcNalUnitType.RaslN, false)]
    [TestCase(HevcNalUnitType.VideoParameterSet, false)]
    public void IsIrap_Types16To23_True(HevcNalUnitType type, bool irap) => Assert.That(HevcNal.IsIrap(type), Is.EqualTo(irap));

    [Test]
    public void GetType_AudHeader_Is35() => Assert.That(HevcNal.GetType(0x46), Is.EqualTo(HevcNalUnitType.AccessUnitDelimiter));

    [Property(MaxTest = 150, Replay = "(777,889)")]
    public Property Roundtrip_Record()
    {
        var unit = Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>()).Where(a => a.Length is > 0 and < 64);
        var array =
            from complete in ArbMap.Default.GeneratorFor<bool>()
            from type in Gen.Choose(0, 63)
            from count in Gen.Choose(0, 3)
            from units in Gen.ArrayOf(unit, count)
            select new HevcNalArray(complete, (HevcNalUnitType)type, units);
        var gen =
            from space in Gen.Choose(0, 3)
            from tier in ArbMap.Default.GeneratorFor<bool>()
            from profile in Gen.Choose(0, 31)
            from compat in ArbMap.Default.GeneratorFor<uint>()
            from constraints in ArbMap.Default.GeneratorFor<ulong>()
            from level in ArbMap.Default.GeneratorFor<byte>()
            from spatial in Gen.Choose(0, 0xFFF)
            from misc in Gen.Choose(0, 3)
            from depth in Gen.Choose(0, 7)
            from fps in ArbMap.Default.GeneratorFor<ushort>()
            from layers in Gen.Choose(0, 7)
            from lengthSize in Gen.Elements(1, 2, 4)
            from arrayCount in Gen.Choose(0, 4)
            from arrays in Gen.ArrayOf(array, arrayCount)
            select new HevcDecoderConfigurationRecord
            {
                GeneralProfileSpace = (byte)space,
                GeneralTierFlag = tier,
                GeneralProfileIdc = (byte)profile,
                GeneralProfileCompatibilityFlags = compat,
                GeneralConstraintIndicatorFlags = constraints & 0xFFFF_FFFF_FFFF,
                GeneralLevelIdc = level,
                MinSpatialSegmentationIdc = (ushort)spatial,
                ParallelismType = (byte)misc,
                ChromaFormat = (byte)(3 - misc),
                BitDepthLumaMinus8 = (byte)depth,
                BitDepthChromaMinus8 = (byte)(7 - depth),
                AvgFrameRate = fps,
                ConstantFrameRate = (byte)misc,
                NumTemporalLayers = (byte)layers,
                TemporalIdNested = tier,
                NalUnitLengthSize = lengthSize,
                Arrays = arrays,
            };
        return Prop.ForAll(gen.ToArbitrary(), record =>
        {
            var first = new ArrayBufferWriter<byte>();
            record.Write(first);
            var parsed = HevcDecoderConfigurationRecord.Parse(first.WrittenSpan);
            var second = new ArrayBufferWriter<byte>();
            parsed.Write(second);
            return first.WrittenCount == record.Length
                && first.WrittenSpan.SequenceEqual(second.WrittenSpan)
                && parsed.GeneralConstraintIndicatorFlags == record.GeneralConstraintIndicatorFlags
                && parsed.MinSpatialSegmentationIdc == record.MinSpatialSegmentationIdc
                && parsed.NalUnitLengthSize == record.NalUnitLengthSize
                && parsed.Arrays.Count == record.Arrays.Count;
        });
    }
}
