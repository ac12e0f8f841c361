using MediaServer.Core.Media;

namespace MediaServer.Core.Flv;

/// <summary>FLV tag types (FLV spec v10.1 §E.4.1), which are also the RTMP message type ids of media.</summary>
public enum FlvTagType : byte
{
    Audio = 8,
    Video = 9,
    Script = 18,
}

/// <summary>VideoTagHeader FrameType (FLV spec v10.1 §E.4.3.1; Enhanced RTMP VideoFrameType), bits 6-4.</summary>
public enum FlvVideoFrameType : byte
{
    KeyFrame = 1,
    InterFrame = 2,

    /// <summary>H.263 only.</summary>
    DisposableInterFrame = 3,

    /// <summary>Reserved for server use: a keyframe the server generated.</summary>
    GeneratedKeyFrame = 4,

    /// <summary>Video info / command frame: no media, a UI8 command follows.</summary>
    Command = 5,
}

/// <summary>Legacy VideoTagHeader CodecID (FLV spec v10.1 §E.4.3.1), low nibble of the first byte.</summary>
public enum FlvVideoCodecId : byte
{
    SorensonH263 = 2,
    Screen = 3,
    On2Vp6 = 4,
    On2Vp6Alpha = 5,
    ScreenV2 = 6,
    Avc = 7,

    /// <summary>Not in the spec: HEVC in the AVC layout, as sent by older OBS/ffmpeg forks (and SRS, Nginx-rtmp forks).</summary>
    LegacyHevc = 12,
}

/// <summary>AVCPacketType (FLV spec v10.1 §E.4.3.1), the byte after the VideoTagHeader for AVC (and legacy HEVC).</summary>
public enum FlvAvcPacketType : byte
{
    SequenceHeader = 0,
    Nalu = 1,
    EndOfSequence = 2,
}

/// <summary>Enhanced RTMP VideoPacketType (enhanced-rtmp v2, ExVideoTagHeader), low nibble when bit 7 is set.</summary>
public enum FlvVideoPacketType : byte
{
    SequenceStart = 0,
    CodedFrames = 1,
    SequenceEnd = 2,

    /// <summary>Coded frames with an implicit composition time of zero (no SI24 on the wire).</summary>
    CodedFramesX = 3,

    /// <summary>AMF-encoded metadata (e.g. HDR colour info), not video.</summary>
    Metadata = 4,
    Mpeg2TsSequenceStart = 5,
    Multitrack = 6,

    /// <summary>A modifier extension (e.g. TimestampOffsetNano) followed by the real packet type.</summary>
    ModEx = 7,
}

/// <summary>SoundFormat (FLV spec v10.1 §E.4.2.1), high nibble of the AudioTagHeader.</summary>
public enum FlvSoundFormat : byte
{
    LinearPcmPlatformEndian = 0,
    AdPcm = 1,
    Mp3 = 2,
    LinearPcmLittleEndian = 3,
    Nellymoser16KMono = 4,
    Nellymoser8KMono = 5,
    Nellymoser = 6,
    G711ALaw = 7,
    G711MuLaw = 8,

    /// <summary>Enhanced RTMP: the low nibble is an AudioPacketType and a FourCC follows.</summary>
    ExHeader = 9,
    Aac = 10,
    Speex = 11,
    Mp3At8K = 14,
    DeviceSpecific = 15,
}

/// <summary>AACPacketType (FLV spec v10.1 §E.4.2.1).</summary>
public enum FlvAacPacketType : byte
{
    SequenceHeader = 0,
    Raw = 1,
}

/// <summary>Enhanced RTMP AudioPacketType (enhanced-rtmp v2, ExAudioTagHeader).</summary>
public enum FlvAudioPacketType : byte
{
    SequenceStart = 0,
    CodedFrames = 1,
    SequenceEnd = 2,
    MultichannelConfig = 4,
    Multitrack = 5,
    ModEx = 7,
}

/// <summary>Enhanced RTMP AvMultitrackType (high nibble of the byte after a Multitrack packet type).</summary>
public enum FlvMultitrackType : byte
{
    OneTrack = 0,
    ManyTracks = 1,
    ManyTracksManyCodecs = 2,
}

/// <summary>Enhanced RTMP FourCC codec identifiers, as big-endian 32-bit values of their ASCII bytes, and the one
/// table that maps them to and from the media model's codecs (both the demuxer and the muxer read it).</summary>
public static class FlvFourCc
{
    public const uint Avc1 = 0x61766331; // 'a' 'v' 'c' '1'
    public const uint Hvc1 = 0x68766331; // 'h' 'v' 'c' '1'
    public const uint Av01 = 0x61763031; // 'a' 'v' '0' '1'
    public const uint Vp09 = 0x76703039; // 'v' 'p' '0' '9'
    public const uint Vp08 = 0x76703038; // 'v' 'p' '0' '8'
    public const uint Mp4a = 0x6D703461; // 'm' 'p' '4' 'a'
    public const uint Opus = 0x4F707573; // 'O' 'p' 'u' 's'
    public const uint Flac = 0x664C6143; // 'f' 'L' 'a' 'C'
    public const uint Ac3 = 0x61632D33;  // 'a' 'c' '-' '3'
    public const uint Eac3 = 0x65632D33; // 'e' 'c' '-' '3'
    public const uint Mp3 = 0x2E6D7033;  // '.' 'm' 'p' '3'

    // FourCC, codec, kind, and whether coded frames carry an SI24 composition time (enhanced-rtmp v2: avc1/hvc1 only).
    private static readonly Entry[] s_table =
    [
        new(Avc1, MediaCodec.H264, MediaKind.Video, true),
        new(Hvc1, MediaCodec.Hevc, MediaKind.Video, true),
        new(Av01, MediaCodec.Av1, MediaKind.Video, false),
        new(Vp09, MediaCodec.Vp9, MediaKind.Video, false),
        new(Mp4a, MediaCodec.Aac, MediaKind.Audio, false),
        new(Opus, MediaCodec.Opus, MediaKind.Audio, false),
        new(Flac, MediaCodec.Flac, MediaKind.Audio, false),
        new(Ac3, MediaCodec.Ac3, MediaKind.Audio, false),
        new(Eac3, MediaCodec.Eac3, MediaKind.Audio, false),
        new(Mp3, MediaCodec.Mp3, MediaKind.Audio, false),
    ];

    /// <summary>The codec a FourCC names for a track of <paramref name="kind"/>; false for FourCCs we do not carry.</summary>
    public static bool TryGetCodec(uint fourCc, MediaKind kind, out MediaCodec codec, out bool hasCompositionTime)
    {
        foreach (var entry in s_table)
        {
            if (entry.FourCc == fourCc && entry.Kind == kind)
            {
                codec = entry.Codec;
                hasCompositionTime = entry.HasCompositionTime;
                return true;
            }
        }

        codec = MediaCodec.Unknown;
        hasCompositionTime = false;
        return false;
    }

    /// <summary>The FourCC of a codec, or 0 when Enhanced RTMP has none for it.</summary>
    public static uint FromCodec(MediaCodec codec)
    {
        foreach (var entry in s_table)
        {
            if (entry.Codec == codec)
            {
                return entry.FourCc;
            }
        }

        return 0;
    }

    private readonly record struct Entry(uint FourCc, MediaCodec Codec, MediaKind Kind, bool HasCompositionTime);
}

/// <summary>Outcome of demuxing one FLV tag body.</summary>
public enum FlvDemuxStatus : byte
{
    /// <summary>A frame was produced; the caller owns one reference on its payload.</summary>
    Frame = 0,

    /// <summary>Well-formed but carries nothing for the media model (empty body, metadata we skip, ...).</summary>
    Ignored = 1,

    /// <summary>A codec we cannot carry; <c>unsupportedCodec</c> names it for the log and the stream status.</summary>
    UnsupportedCodec = 2,
}
