using MediaServer.Core.Buffers;

namespace MediaServer.Core.Media;

/// <summary>What a frame carries.</summary>
public enum MediaKind : byte
{
    Video = 1,
    Audio = 2,

    /// <summary>Script data (AMF0-encoded, e.g. <c>onMetaData</c>), with any <c>@setDataFrame</c> wrapper removed.</summary>
    Data = 3,
}

/// <summary>Codecs known to the media model. A codec we can carry but not remux is still named here.</summary>
public enum MediaCodec : byte
{
    Unknown = 0,
    H264 = 1,
    Hevc = 2,
    Av1 = 3,
    Vp9 = 4,
    Aac = 10,
    Mp3 = 11,
    Opus = 12,
    Flac = 13,
    Ac3 = 14,
    Eac3 = 15,
    Script = 20,
}

/// <summary>Frame properties.</summary>
[Flags]
public enum FrameFlags : byte
{
    None = 0,

    /// <summary>A random access point (IDR/IRAP for video). Audio frames are not flagged.</summary>
    Keyframe = 1,

    /// <summary>The payload is the decoder configuration (AVC/HEVC record, AudioSpecificConfig), not media.</summary>
    Config = 2,

    /// <summary>End of sequence marker (AVC packet type 2 / Enhanced RTMP SequenceEnd); the payload is empty.</summary>
    EndOfSequence = 4,

    /// <summary>First frame after a publisher change (reconnect): timestamps and parameters may not continue.</summary>
    Discontinuity = 8,
}

/// <summary>
/// One codec-neutral media unit as it travels from the ingest to every subscriber.
/// </summary>
/// <remarks>
/// Payload formats by codec:
/// <list type="bullet">
/// <item>H.264 / HEVC media: NAL units each prefixed by a big-endian length whose size comes from the
/// decoder configuration record (<c>lengthSizeMinusOne + 1</c>, 4 in practice) — the FLV/AVCC layout.</item>
/// <item>H.264 config: AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.3.3.1).
/// HEVC config: HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 §8.3.3.1).</item>
/// <item>AAC media: one raw AAC frame (no ADTS). AAC config: AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1).</item>
/// <item>MP3 media: MPEG audio frames as sent.</item>
/// <item>Data: AMF0 values, e.g. the string <c>onMetaData</c> followed by an ECMA array.</item>
/// </list>
/// Timestamps are milliseconds on a 64-bit, wrap-free timeline (RTMP's 32-bit values are extended by
/// <see cref="TimestampExtender"/> at the ingest).
/// The frame does not own a reference by itself: whoever holds a frame holds one reference on
/// <see cref="Payload"/> and releases it when done.
/// </remarks>
public readonly struct MediaFrame
{
    public MediaFrame(MediaKind kind, MediaCodec codec, FrameFlags flags, long timestamp, int compositionTime, MediaBuffer payload)
    {
        Kind = kind;
        Codec = codec;
        Flags = flags;
        Timestamp = timestamp;
        CompositionTime = compositionTime;
        Payload = payload;
    }

    public MediaKind Kind { get; }

    public MediaCodec Codec { get; }

    public FrameFlags Flags { get; }

    /// <summary>Decode timestamp in milliseconds (64-bit, never wraps).</summary>
    public long Timestamp { get; }

    /// <summary>Composition time offset in milliseconds (PTS − DTS); may be negative.</summary>
    public int CompositionTime { get; }

    public MediaBuffer Payload { get; }

    /// <summary>Presentation timestamp in milliseconds.</summary>
    public long PresentationTimestamp => Timestamp + CompositionTime;

    public bool IsKeyframe => (Flags & FrameFlags.Keyframe) != 0;

    public bool IsConfig => (Flags & FrameFlags.Config) != 0;

    public bool IsVideo => Kind == MediaKind.Video;

    public bool IsAudio => Kind == MediaKind.Audio;

    public ReadOnlySpan<byte> Span => Payload.Memory.Span;

    /// <summary>The same frame with other flags (the payload reference is shared, not added).</summary>
    public MediaFrame WithFlags(FrameFlags flags) => new(Kind, Codec, flags, Timestamp, CompositionTime, Payload);

    /// <summary>The same frame with another timestamp (the payload reference is shared, not added).</summary>
    public MediaFrame WithTimestamp(long timestamp) => new(Kind, Codec, Flags, timestamp, CompositionTime, Payload);

    /// <summary>The same frame with another DTS and composition time (the payload reference is shared, not added).</summary>
    public MediaFrame WithTimestamps(long timestamp, int compositionTime) => new(Kind, Codec, Flags, timestamp, compositionTime, Payload);
}
