using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace MediaServer.Tests.Infrastructure;

/// <summary>Real ffmpeg/ffprobe as publishers, players and independent decoders in end-to-end tests.</summary>
internal static class Ffmpeg
{
    /// <summary>
    /// Arguments for a synthetic H.264 High profile (with B-frames) + AAC source from lavfi:
    /// <paramref name="seconds"/> long, 30 fps, a keyframe every <paramref name="gop"/> frames.
    /// </summary>
    public static string[] SyntheticSource(double seconds, bool realtime, int gop = 30, string size = "640x360") =>
    [
        "-hide_banner", "-nostdin", "-loglevel", "error",
        .. realtime ? new[] { "-re" } : [],
        "-f", "lavfi", "-i", $"testsrc2=size={size}:rate=30",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
        "-t", seconds.ToString(CultureInfo.InvariantCulture),
        "-c:v", "libx264", "-profile:v", "high", "-preset", "veryfast", "-bf", "3", "-g", gop.ToString(CultureInfo.InvariantCulture),
        "-keyint_min", gop.ToString(CultureInfo.InvariantCulture), "-sc_threshold", "0", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "96k",
    ];

    /// <summary>Publishes the synthetic source to <paramref name="rtmpUrl"/> and waits for ffmpeg to finish.</summary>
    public static Task<ProcessResult> PublishAsync(string rtmpUrl, double seconds, bool realtime, int gop = 30, TimeSpan? timeout = null) =>
        ProcessRunner.RunAsync("ffmpeg", [.. SyntheticSource(seconds, realtime, gop), "-f", "flv", rtmpUrl],
            timeout ?? TimeSpan.FromSeconds(seconds * 3 + 30));

    /// <summary>Starts publishing in the background; kill the process to stop.</summary>
    /// <param name="constantBitrate">When set (e.g. "16M"), the video is encoded at this constant rate, padded with filler NAL units.</param>
    public static Process StartPublishing(string rtmpUrl, double seconds, out StringBuilder stderr, int gop = 30, string size = "640x360", string? constantBitrate = null)
        => ProcessRunner.Start("ffmpeg", [
            .. SyntheticSource(seconds, realtime: true, gop, size),
            .. constantBitrate is null ? [] : new[] { "-b:v", constantBitrate, "-minrate", constantBitrate, "-maxrate", constantBitrate, "-bufsize", constantBitrate, "-x264-params", "nal-hrd=cbr" },
            "-f", "flv", rtmpUrl], out _, out stderr);

    /// <summary>
    /// Output options for decoding to the null muxer. The video encoder keeps the input's time base: with the
    /// default 1/fps base, ffmpeg 5.1 rounds millisecond FLV timestamps (33/34 ms steps) onto equal ticks and
    /// prints "non monotonically increasing dts" for perfectly valid streams (nginx-rtmp's output does the same).
    /// </summary>
    public static readonly string[] NullOutput = ["-enc_time_base:v", "-1", "-f", "null", "-"];

    /// <summary>Decodes every frame of <paramref name="input"/> (playlist, segment or RTMP URL); errors go to stderr.</summary>
    public static Task<ProcessResult> DecodeAsync(string input, TimeSpan timeout, params string[] extraInputArguments) =>
        ProcessRunner.RunAsync("ffmpeg",
            ["-hide_banner", "-nostdin", "-loglevel", "error", .. extraInputArguments, "-i", input, .. NullOutput], timeout);

    public static Task<ProcessResult> ProbeAsync(string input, params string[] arguments) =>
        ProcessRunner.RunAsync("ffprobe", ["-hide_banner", "-loglevel", "error", .. arguments, input], TimeSpan.FromSeconds(60));
}
