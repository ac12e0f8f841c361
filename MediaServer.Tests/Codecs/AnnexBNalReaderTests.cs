using System.Buffers;
using FsCheck;
using FsCheck.Fluent;
using MediaServer.Core.Codecs;
using MediaServer.Tests.Infrastructure;
using PropertyAttribute = FsCheck.NUnit.PropertyAttribute;

namespace MediaServer.Tests.Codecs;

public class AnnexBNalReaderTests
{
    private static List<string> Read(string hex)
    {
        var data = MediaTestData.Hex(hex);
        var reader = new AnnexBNalReader(data);
        var units = new List<string>();
        while (reader.TryRead(out var nal))
        {
            units.Add(Convert.ToHexStringLower(nal));
        }

        return units;
    }

    // Start codes separated by " | " for reading; NAL units as the reader must give them.
    [TestCase("00000001 4001 | 00000001 4201aa", new[] { "4001", "4201aa" }, TestName = "Read_FourByteStartCodes_SplitsUnits")]
    [TestCase("000001 4001 | 000001 4201aa", new[] { "4001", "4201aa" }, TestName = "Read_ThreeByteStartCodes_SplitsUnits")]
    [TestCase("00000001 4001 | 000001 4201aa | 00000001 2601", new[] { "4001", "4201aa", "2601" }, TestName = "Read_MixedStartCodes_SplitsUnits")]
    [TestCase("ffee 000001 4001", new[] { "4001" }, TestName = "Read_BytesBeforeFirstStartCode_Skipped")]
    [TestCase("0000 00000001 4001 0000 | 000001 4401 000000", new[] { "4001", "4401" }, TestName = "Read_LeadingAndTrailingZeroBytes_NotPartOfUnits")]
    [TestCase("00000001 | 00000001 4001 | 000001", new[] { "4001" }, TestName = "Read_EmptyUnits_Skipped")]
    [TestCase("4001 4201", new string[0], TestName = "Read_NoStartCode_NoUnits")]
    [TestCase("", new string[0], TestName = "Read_Empty_NoUnits")]
    [TestCase("000001 26 000003 01 00", new[] { "2600000301" }, TestName = "Read_EmulationPreventedZeros_StayInUnit")]
    public void Read_Table(string hex, string[] expected) =>
        Assert.That(Read(hex.Replace("|", "", StringComparison.Ordinal)), Is.EqualTo(expected));

    /// <summary>NAL units as an encoder makes them: a non-zero header byte, no 00 00 0x inside (emulation
    /// prevention), a non-zero last byte (rbsp_stop_one_bit).</summary>
    private static Gen<byte[]> NalUnit =>
        from body in Gen.ArrayOf(Gen.Elements<byte>(0, 0, 1, 2, 3, 0x40, 0xff))
        let escaped = Escape(body)
        from header in Gen.Choose(1, 255)
        from last in Gen.Choose(1, 255)
        select (byte[])[(byte)header, .. escaped, (byte)last];

    private static byte[] Escape(byte[] body)
    {
        var result = new List<byte>();
        var zeros = 0;
        foreach (var b in body)
        {
            if (zeros >= 2 && b <= 3)
            {
                result.Add(3);
                zeros = 0;
            }

            result.Add(b);
            zeros = b == 0 ? zeros + 1 : 0;
        }

        // A unit may not end in 00, and 00 00 before the appended last byte could form a start code with it.
        if (zeros > 0)
        {
            result.Add(3);
        }

        return [.. result];
    }

    [Property(MaxTest = 200, Replay = "(4242,1717)")]
    public Property Roundtrip_LengthPrefixedToAnnexB_ReadsSameUnits()
    {
        var gen = from units in Gen.NonEmptyListOf(NalUnit)
                  from threeByte in Gen.ArrayOf(ArbMap.Default.GeneratorFor<bool>(), units.Count)
                  select (units, threeByte);
        return Prop.ForAll(gen.ToArbitrary(), input =>
        {
            var (units, threeByte) = input;

            // Our AnnexB.Convert writes 4-byte start codes; some are cut to 3 bytes, as encoders mix both.
            var output = new ArrayBufferWriter<byte>();
            AnnexB.Convert(MediaTestData.Avcc([.. units]), 4, output);
            var stream = new List<byte>();
            var reader = new LengthPrefixedNalReader(MediaTestData.Avcc([.. units]), 4);
            for (var i = 0; reader.TryRead(out var nal); i++)
            {
                stream.AddRange(threeByte[i] ? [0, 0, 1] : [0, 0, 0, 1]);
                stream.AddRange(nal.ToArray());
            }

            var fromConvert = MediaTestData.SplitAnnexB(output.WrittenSpan);
            var fromMixed = MediaTestData.SplitAnnexB([.. stream]);
            return fromConvert.Count == units.Count && fromMixed.Count == units.Count
                && units.Select((u, i) => u.AsSpan().SequenceEqual(fromConvert[i]) && u.AsSpan().SequenceEqual(fromMixed[i])).All(x => x);
        });
    }
}
