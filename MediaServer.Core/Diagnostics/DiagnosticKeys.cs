namespace MediaServer.Core.Diagnostics;

/// <summary>
/// Keys of the diagnostics a live stream reports in its status (<see cref="Streams.LiveStream.Diagnostics"/>):
/// problems a user can act on. One scheme: <c>{layer}.{what}</c>, lower-case, words joined by hyphens.
/// </summary>
public static class DiagnosticKeys
{
    /// <summary>The encoder sends a video codec RTMP ingest cannot carry.</summary>
    public const string RtmpUnsupportedVideoCodec = "rtmp.unsupported-video-codec";

    /// <summary>The encoder sends an audio codec RTMP ingest cannot carry.</summary>
    public const string RtmpUnsupportedAudioCodec = "rtmp.unsupported-audio-codec";

    /// <summary>The encoder sends data messages of a kind RTMP ingest cannot carry.</summary>
    public const string RtmpUnsupportedDataCodec = "rtmp.unsupported-data-codec";

    /// <summary>Decode timestamps that did not increase were repaired (the stream keeps DTS strictly increasing per track).</summary>
    public const string TimestampsRepaired = "stream.timestamps-repaired";

    /// <summary>HLS (the container in use) cannot carry the video codec: the track is skipped.</summary>
    public const string HlsUnsupportedVideoCodec = "hls.unsupported-video-codec";

    /// <summary>HLS (the container in use) cannot carry the audio codec: the track is skipped.</summary>
    public const string HlsUnsupportedAudioCodec = "hls.unsupported-audio-codec";

    /// <summary>GOPs longer than the target duration: segments are split between keyframes.</summary>
    public const string HlsKeyframeInterval = "hls.keyframe-interval";

    /// <summary>Timestamps jumped: a new segment after EXT-X-DISCONTINUITY at each jump.</summary>
    public const string HlsTimestampJumps = "hls.timestamp-jumps";

    /// <summary>A segment reached the size cap and was cut without a keyframe.</summary>
    public const string HlsSegmentSize = "hls.segment-size";

    /// <summary>Frames the container muxer refused, counted by reason.</summary>
    public const string HlsRefusedFrames = "hls.refused-frames";

    /// <summary>The HLS output failed and its playlist was ended.</summary>
    public const string HlsFailed = "hls.failed";

    /// <summary>The key for an unsupported ingest codec of a track kind ("video", "audio", "data").</summary>
    public static string RtmpUnsupportedCodec(string kind) => kind switch
    {
        "video" => RtmpUnsupportedVideoCodec,
        "audio" => RtmpUnsupportedAudioCodec,
        _ => RtmpUnsupportedDataCodec,
    };
}
