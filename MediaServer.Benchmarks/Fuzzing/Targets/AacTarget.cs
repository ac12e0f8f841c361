using System.Buffers;
using MediaServer.Core.Codecs;
using MediaServer.Core.Codecs.Aac;

namespace MediaServer.Fuzzing.Targets;

/// <summary>
/// AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1), its RFC 6381 string, the ADTS header the TS muxer derives
/// from it, and ADTS header parsing of the same bytes. A config that parses must write back and parse equal.
/// Escapes: <see cref="CodecException"/>.
/// </summary>
internal static class AacTarget
{
    public static void Run(ReadOnlySpan<byte> input)
    {
        try
        {
            _ = AdtsHeader.Parse(input);
        }
        catch (CodecException)
        {
        }

        AudioSpecificConfig config;
        try
        {
            config = AudioSpecificConfig.Parse(input);
        }
        catch (CodecException)
        {
            return;
        }

        _ = CodecStrings.Aac(config);
        var output = new ArrayBufferWriter<byte>(16);
        config.Write(output);
        FuzzFindingException.Check(AudioSpecificConfig.Parse(output.WrittenSpan) == config, "round trip keeps the config");

        try
        {
            var header = AdtsHeader.For(config, input.Length);
            FuzzFindingException.Check(header.FrameLength <= AdtsHeader.MaxFrameLength, "ADTS frame length within 13 bits");
        }
        catch (CodecException)
        {
        }
    }
}
