using System.Buffers;
using MediaServer.Core.Codecs;
using MediaServer.Core.Codecs.Hevc;

namespace MediaServer.Fuzzing.Targets;

/// <summary>
/// HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 §8.3.3.1) and its RFC 6381 codec string. A record that
/// parses must write back and parse to the same NAL unit arrays. Escapes: <see cref="CodecException"/>.
/// </summary>
internal static class HevcTarget
{
    public static void Run(ReadOnlySpan<byte> input)
    {
        HevcDecoderConfigurationRecord record;
        try
        {
            record = HevcDecoderConfigurationRecord.Parse(input);
        }
        catch (CodecException)
        {
            return;
        }

        FuzzFindingException.Check(record.NalUnitLengthSize is 1 or 2 or 4, "NAL length size 1, 2 or 4");
        FuzzFindingException.Check(record.Arrays.Count <= HevcDecoderConfigurationRecord.MaxArrays, "arrays within the limit");
        _ = CodecStrings.Hevc(record);

        var output = new ArrayBufferWriter<byte>(record.Length);
        record.Write(output);
        FuzzFindingException.Check(output.WrittenCount == record.Length, "written length equals Length");
        var again = HevcDecoderConfigurationRecord.Parse(output.WrittenSpan);
        FuzzFindingException.Check(again.Arrays.Count == record.Arrays.Count, "round trip keeps the arrays");
        for (var i = 0; i < record.Arrays.Count; i++)
        {
            FuzzFindingException.Check(again.Arrays[i].NalUnitType == record.Arrays[i].NalUnitType, "round trip keeps the NAL types");
            FuzzFindingException.Check(AvcTarget.SameSets(again.Arrays[i].NalUnits, record.Arrays[i].NalUnits), "round trip keeps the NAL units");
        }

        FuzzFindingException.Check(CodecStrings.Hevc(again) == CodecStrings.Hevc(record), "round trip keeps the codec string");
    }
}
