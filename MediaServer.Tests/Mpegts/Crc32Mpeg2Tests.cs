using FsCheck;
using FsCheck.Fluent;
using MediaServer.Core.Mpegts;
using MediaServer.Tests.Infrastructure;
using PropertyAttribute = FsCheck.NUnit.PropertyAttribute;

namespace MediaServer.Tests.Mpegts;

public class Crc32Mpeg2Tests
{
    [Test]
    public void Compute_CheckString_Is0376E6E7() => Assert.That(Crc32Mpeg2.Compute("123456789"u8), Is.EqualTo(0x0376E6E7u));

    [Test]
    public void Compute_FfmpegPatSection_MatchesFfmpegCrc() =>
        Assert.That(Crc32Mpeg2.Compute(MediaTestData.Hex("00b00d0001c100000001f000")), Is.EqualTo(0x2AB104B2u));

    [Property(MaxTest = 200, Replay = "(5,7)")]
    public Property Compute_Any_EqualsBitwiseReference() =>
        Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), data => Crc32Mpeg2.Compute(data) == TsTestDemuxer.Crc32(data));
}
