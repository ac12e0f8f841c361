using System.Buffers;
using MediaServer.Core.Codecs;
using MediaServer.Core.Codecs.H264;
using MediaServer.Core.Media;

namespace MediaServer.Fuzzing.Targets;

/// <summary>
/// AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.3.3.1) and the SPS in it (H.264 §7.3.2.1.1); the input
/// is also parsed as a bare SPS NAL unit. A record that parses must write back and parse to the same
/// parameter sets. Escapes: <see cref="CodecException"/>.
/// </summary>
internal static class AvcTarget
{
    public static void Run(ReadOnlySpan<byte> input)
    {
        _ = CodecStrings.Describe(MediaCodec.H264, input);
        try
        {
            _ = SequenceParameterSet.Parse(input);
        }
        catch (CodecException)
        {
        }

        AvcDecoderConfigurationRecord record;
        try
        {
            record = AvcDecoderConfigurationRecord.Parse(input);
        }
        catch (CodecException)
        {
            return;
        }

        FuzzFindingException.Check(record.NalUnitLengthSize is 1 or 2 or 4, "NAL length size 1, 2 or 4");
        foreach (var sps in record.SequenceParameterSets)
        {
            try
            {
                var parsed = SequenceParameterSet.Parse(sps);
                FuzzFindingException.Check(parsed.Width >= 0 && parsed.Height >= 0, "SPS picture size not negative");
            }
            catch (CodecException)
            {
            }
        }

        var output = new ArrayBufferWriter<byte>(record.Length);
        record.Write(output);
        FuzzFindingException.Check(output.WrittenCount == record.Length, "written length equals Length");
        var again = AvcDecoderConfigurationRecord.Parse(output.WrittenSpan);
        FuzzFindingException.Check(again.NalUnitLengthSize == record.NalUnitLengthSize, "round trip keeps the NAL length size");
        FuzzFindingException.Check(SameSets(again.SequenceParameterSets, record.SequenceParameterSets), "round trip keeps the SPS");
        FuzzFindingException.Check(SameSets(again.PictureParameterSets, record.PictureParameterSets), "round trip keeps the PPS");
    }

    internal static bool SameSets(IReadOnlyList<byte[]> a, IReadOnlyList<byte[]> b)
    {
        if (a.Count != b.Count)
        {
            return false;
        }

        for (var i = 0; i < a.Count; i++)
        {
            if (!a[i].AsSpan().SequenceEqual(b[i]))
            {
                return false;
            }
        }

        return true;
    }
}
