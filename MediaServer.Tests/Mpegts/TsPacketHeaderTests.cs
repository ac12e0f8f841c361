using FsCheck;
using FsCheck.Fluent;
using MediaServer.Core.Mpegts;
using MediaServer.Tests.Infrastructure;
using PropertyAttribute = FsCheck.NUnit.PropertyAttribute;

namespace MediaServer.Tests.Mpegts;

public class TsPacketHeaderTests
{
    [Test]
    public void Write_VideoStart_Golden()
    {
        var bytes = new byte[4];
        new TsPacketHeader(0x100, true, AdaptationFieldControl.AdaptationAndPayload, 7).Write(bytes);

        // 47 sync | 41: PUSI, PID high bits 00001 | 00: PID low | 37: not scrambled, AF + payload, CC 7
        Assert.That(Convert.ToHexStringLower(bytes), Is.EqualTo("47410037"));
    }

    [Test]
    public void Parse_BadSync_Throws()
    {
        var ex = Assert.Throws<TsFormatException>(() => TsPacketHeader.Parse(MediaTestData.Hex("46410037")));
        Assert.That(ex!.Error, Is.EqualTo(TsFormatError.InvalidSyncByte));
    }

    [Property(MaxTest = 300, Replay = "(11,13)")]
    public Property Roundtrip_Header()
    {
        var gen =
            from pid in Gen.Choose(0, 0x1FFF)
            from pusi in ArbMap.Default.GeneratorFor<bool>()
            from afc in Gen.Choose(0, 3)
            from cc in Gen.Choose(0, 15)
            from error in ArbMap.Default.GeneratorFor<bool>()
            from priority in ArbMap.Default.GeneratorFor<bool>()
            from scrambling in Gen.Choose(0, 3)
            select new TsPacketHeader((ushort)pid, pusi, (AdaptationFieldControl)afc, (byte)cc, error, priority, (byte)scrambling);
        return Prop.ForAll(gen.ToArbitrary(), header =>
        {
            var bytes = new byte[4];
            header.Write(bytes);
            return TsPacketHeader.Parse(bytes) == header;
        });
    }
}
