using MediaServer.Core.Codecs;
using MediaServer.Core.Codecs.Aac;
using MediaServer.Core.Codecs.H264;
using MediaServer.Core.Codecs.Hevc;
using MediaServer.Core.Media;

namespace MediaServer.Core.Mp4;

/// <summary>
/// One track of an fMP4 stream as its init segment describes it: id, timescale, sample entry fields and the decoder
/// configuration record, kept as received (it is the <c>avcC</c>/<c>hvcC</c> payload, or the DecSpecificInfo of the
/// <c>esds</c>).
/// </summary>
/// <remarks>
/// Track ids are fixed by kind (<see cref="VideoTrackId"/>, <see cref="AudioTrackId"/>) so a player's track ids stay the
/// same when one track comes and goes. Timescales: video 90 kHz (milliseconds convert exactly); AAC its sampling
/// frequency, the output (SBR extension) frequency for explicit HE-AAC, as ffmpeg writes it. Built once per sequence
/// header: parsing allocates.
/// </remarks>
public sealed class Fmp4Track
{
    public const int VideoTrackId = 1;
    public const int AudioTrackId = 2;
    public const uint VideoTimescale = 90_000;

    private readonly byte[] _decoderConfig;

    private Fmp4Track(int trackId, MediaKind kind, MediaCodec codec, uint timescale, byte[] decoderConfig)
    {
        TrackId = trackId;
        Kind = kind;
        Codec = codec;
        Timescale = timescale;
        _decoderConfig = decoderConfig;
    }

    public int TrackId { get; }

    public MediaKind Kind { get; }

    public MediaCodec Codec { get; }

    /// <summary>Ticks per second of this track's media timeline (<c>mdhd</c>, <c>tfdt</c>, <c>trun</c>).</summary>
    public uint Timescale { get; }

    /// <summary>AVCDecoderConfigurationRecord, HEVCDecoderConfigurationRecord or AudioSpecificConfig, as received.</summary>
    public ReadOnlySpan<byte> DecoderConfig => _decoderConfig;

    /// <summary>Video: size of the NAL unit length prefix of the samples (from the record).</summary>
    public int NalUnitLengthSize { get; private init; } = 4;

    /// <summary>Video: cropped picture width from the SPS, or 0 when unknown.</summary>
    public int Width { get; private init; }

    /// <summary>Video: cropped picture height from the SPS, or 0 when unknown.</summary>
    public int Height { get; private init; }

    /// <summary>Audio: channel count for the sample entry (from channelConfiguration).</summary>
    public int ChannelCount { get; private init; }

    /// <summary>Audio: samples per AAC frame at <see cref="Timescale"/> (1024, or 2048 for explicit SBR at the output rate).</summary>
    public int SamplesPerFrame { get; private init; }

    /// <summary>The track for a sequence header (H.264, HEVC or AAC config frame).</summary>
    /// <exception cref="CodecException">The record does not parse.</exception>
    /// <exception cref="ArgumentException">Another codec.</exception>
    public static Fmp4Track FromConfig(in MediaFrame config) => config.Codec switch
    {
        MediaCodec.H264 => ForH264(config.Span),
        MediaCodec.Hevc => ForHevc(config.Span),
        MediaCodec.Aac => ForAac(config.Span),
        _ => throw new ArgumentException($"fMP4 does not carry {config.Codec}.", nameof(config)),
    };

    /// <summary>An H.264 track from an AVCDecoderConfigurationRecord; the size comes from its first SPS.</summary>
    /// <exception cref="CodecException">The record or its SPS does not parse, or it has no SPS.</exception>
    public static Fmp4Track ForH264(ReadOnlySpan<byte> record)
    {
        var parsed = AvcDecoderConfigurationRecord.Parse(record);
        if (parsed.SequenceParameterSets.Count == 0)
        {
            CodecThrow.Throw(CodecError.InvalidValue, "AVC decoder configuration record without an SPS.");
        }

        var sps = SequenceParameterSet.Parse(parsed.SequenceParameterSets[0]);
        return new Fmp4Track(VideoTrackId, MediaKind.Video, MediaCodec.H264, VideoTimescale, record.ToArray())
        {
            NalUnitLengthSize = parsed.NalUnitLengthSize,
            Width = sps.Width,
            Height = sps.Height,
        };
    }

    /// <summary>An HEVC track from an HEVCDecoderConfigurationRecord; the size comes from its first SPS.</summary>
    /// <exception cref="CodecException">The record or its SPS does not parse.</exception>
    public static Fmp4Track ForHevc(ReadOnlySpan<byte> record)
    {
        var parsed = HevcDecoderConfigurationRecord.Parse(record);
        int width = 0, height = 0;
        foreach (var nal in parsed.GetNalUnits(HevcNalUnitType.SequenceParameterSet))
        {
            var sps = HevcSequenceParameterSet.Parse(nal);
            (width, height) = (sps.Width, sps.Height);
            break;
        }

        return new Fmp4Track(VideoTrackId, MediaKind.Video, MediaCodec.Hevc, VideoTimescale, record.ToArray())
        {
            NalUnitLengthSize = parsed.NalUnitLengthSize,
            Width = width,
            Height = height,
        };
    }

    /// <summary>An AAC track from an AudioSpecificConfig.</summary>
    /// <exception cref="CodecException">The config does not parse.</exception>
    public static Fmp4Track ForAac(ReadOnlySpan<byte> audioSpecificConfig)
    {
        var config = AudioSpecificConfig.Parse(audioSpecificConfig);
        var sbr = config.HasSbr && config.ExtensionSamplingFrequency > 0;
        var rate = sbr ? config.ExtensionSamplingFrequency : config.SamplingFrequency;
        return new Fmp4Track(AudioTrackId, MediaKind.Audio, MediaCodec.Aac, (uint)rate, audioSpecificConfig.ToArray())
        {
            ChannelCount = GetChannelCount(config.ChannelConfiguration),
            SamplesPerFrame = sbr ? 2048 : 1024,
        };
    }

    /// <summary>Whether this track was built from these record bytes.</summary>
    public bool HasConfig(MediaCodec codec, ReadOnlySpan<byte> record) => codec == Codec && record.SequenceEqual(_decoderConfig);

    // ISO/IEC 14496-3 Table 1.19 (channelConfiguration) and ISO/IEC 23001-8 for 11..14; 0 (a program config element
    // says) is written as 2: the decoder reads the real layout from the bitstream.
    private static int GetChannelCount(int configuration) => configuration switch
    {
        >= 1 and <= 6 => configuration,
        7 or 12 or 14 => 8,
        11 => 7,
        13 => 24,
        _ => 2,
    };
}
