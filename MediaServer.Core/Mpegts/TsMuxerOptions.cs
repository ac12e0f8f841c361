namespace MediaServer.Core.Mpegts;

/// <summary>Tuning of the <see cref="TsMuxer"/>. The defaults follow what ffmpeg's mpegts muxer produces.</summary>
public sealed record TsMuxerOptions
{
    /// <summary>A PCR is written on a video PES (audio when audio-only) when this much time passed since the last one (and on every keyframe). The spec asks for ≤ 100 ms.</summary>
    public int PcrIntervalMs { get; init; } = 40;

    /// <summary>PCR = DTS − this margin, so data (and audio held for packing) arrives before it is due.</summary>
    public int PcrMarginMs { get; init; } = 100;

    /// <summary>Most audio frames packed in one PES.</summary>
    public int MaxAudioFramesPerPes { get; init; } = 5;

    /// <summary>Longest span of audio (first to last frame PTS) held for one PES, and the most audio may lag the video written.</summary>
    public int MaxAudioPesDurationMs { get; init; } = 100;

    /// <summary>Added to every 90 kHz timestamp: 1.4 s as ffmpeg does, so a small negative composition time stays ≥ 0.</summary>
    public long TimestampOffset90kHz { get; init; } = 126_000;

    public static TsMuxerOptions Default { get; } = new();
}
