using System.Globalization;
using System.Text;
using MediaServer.Core.Codecs.Aac;
using MediaServer.Core.Codecs.H264;
using MediaServer.Core.Codecs.Hevc;
using MediaServer.Core.Media;

namespace MediaServer.Core.Codecs;

/// <summary>What a track's decoder configuration says about it, for a multivariant playlist.</summary>
/// <param name="Codec">The RFC 6381 codec string (<c>avc1.64001f</c>, <c>mp4a.40.2</c>), or null if unknown.</param>
/// <param name="Width">Picture width in pixels (0 when unknown or audio).</param>
/// <param name="Height">Picture height in pixels (0 when unknown or audio).</param>
public readonly record struct CodecDescription(string? Codec, int Width = 0, int Height = 0);

/// <summary>
/// RFC 6381 codec strings, as HLS's CODECS attribute wants them (RFC 8216 §4.3.4.2), built from the
/// decoder configuration the encoder sent. Players (hls.js, Safari) use them to set up their decoders
/// before reading any media, so a wrong string is worse than none: whatever cannot be described exactly
/// is described as null and left out.
/// </summary>
public static class CodecStrings
{
    /// <summary>MP3 in HLS: <c>mp4a.40.34</c> (MPEG-1/2 Layer III, the object type Apple's tools write).</summary>
    public const string Mp3 = "mp4a.40.34";

    /// <summary>Describes a track from its sequence header payload; never throws on bad input.</summary>
    public static CodecDescription Describe(MediaCodec codec, ReadOnlySpan<byte> config)
    {
        try
        {
            return codec switch
            {
                MediaCodec.H264 => DescribeAvc(config),
                MediaCodec.Hevc => new CodecDescription(Hevc(HevcDecoderConfigurationRecord.Parse(config))),
                MediaCodec.Aac => new CodecDescription(Aac(AudioSpecificConfig.Parse(config))),
                MediaCodec.Mp3 => new CodecDescription(Mp3),
                _ => default,
            };
        }
        catch (CodecException)
        {
            return default;
        }
    }

    /// <summary><c>avc1.PPCCLL</c>: profile_idc, constraint flags and level_idc as two hex digits each.</summary>
    public static string Avc(byte profile, byte compatibility, byte level) =>
        string.Create(CultureInfo.InvariantCulture, $"avc1.{profile:x2}{compatibility:x2}{level:x2}");

    /// <summary>
    /// <c>hvc1.[A-C]P.C.TL.B…</c> (ISO/IEC 14496-15 Annex E.3): profile space as a letter (none for 0) and
    /// profile idc; the 32 compatibility flags in reverse bit order, hex; tier (L/H) and level idc; then the
    /// six constraint bytes in hex, trailing zero bytes left out.
    /// </summary>
    public static string Hevc(HevcDecoderConfigurationRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var text = new StringBuilder("hvc1.", 32);
        if (record.GeneralProfileSpace is > 0 and <= 3)
        {
            text.Append((char)('A' + record.GeneralProfileSpace - 1));
        }

        var reversed = 0u;
        for (var bit = 0; bit < 32; bit++)
        {
            reversed |= ((record.GeneralProfileCompatibilityFlags >> bit) & 1u) << (31 - bit);
        }

        text.Append(CultureInfo.InvariantCulture, $"{record.GeneralProfileIdc}.{reversed:X}.");
        text.Append(record.GeneralTierFlag ? 'H' : 'L').Append(record.GeneralLevelIdc.ToString(CultureInfo.InvariantCulture));
        Span<byte> constraints = stackalloc byte[6];
        var last = -1;
        for (var i = 0; i < 6; i++)
        {
            constraints[i] = (byte)(record.GeneralConstraintIndicatorFlags >> (40 - (8 * i)));
            if (constraints[i] != 0)
            {
                last = i;
            }
        }

        for (var i = 0; i <= last; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $".{constraints[i]:X2}");
        }

        return text.ToString();
    }

    /// <summary><c>mp4a.40.N</c> with N the MPEG-4 audio object type (2 = AAC-LC, 5 = HE-AAC, 29 = HE-AACv2).</summary>
    public static string Aac(in AudioSpecificConfig config) =>
        string.Create(CultureInfo.InvariantCulture, $"mp4a.40.{config.ObjectType}");

    private static CodecDescription DescribeAvc(ReadOnlySpan<byte> config)
    {
        var record = AvcDecoderConfigurationRecord.Parse(config);
        var codec = Avc(record.ProfileIndication, record.ProfileCompatibility, record.LevelIndication);
        if (record.SequenceParameterSets.Count == 0)
        {
            return new CodecDescription(codec);
        }

        var sps = SequenceParameterSet.Parse(record.SequenceParameterSets[0]);
        return new CodecDescription(codec, sps.Width, sps.Height);
    }
}
