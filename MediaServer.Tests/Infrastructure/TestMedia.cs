using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace MediaServer.Tests.Infrastructure;

/// <summary>
/// Small media files generated with ffmpeg (lavfi testsrc/sine) for tests, so no media is committed.
/// </summary>
/// <remarks>
/// Files live under <c>{temp}/mediaserver-testmedia/</c>, named after the caller's name plus a hash of the
/// ffmpeg arguments, so a changed recipe makes a new file and an unchanged one is generated once and reused
/// (also across test runs and by concurrent test processes: each writes a private temporary file and moves it
/// into place). ffmpeg runs with <c>-nostdin -loglevel error</c> and a timeout; a failure throws with ffmpeg's
/// own error output.
/// </remarks>
public static class TestMedia
{
    /// <summary>How long one ffmpeg run may take before it is killed (the files are seconds long; the machine is shared).</summary>
    public static readonly TimeSpan FfmpegTimeout = TimeSpan.FromSeconds(120);

    private static readonly ConcurrentDictionary<string, Lazy<string>> s_files = new();

    public static string CacheDirectory { get; } = Path.Combine(Path.GetTempPath(), "mediaserver-testmedia");

    /// <summary>
    /// 2 s of 320x240 testsrc at 30 fps, H.264 High profile with B-frames (2) and a keyframe every 30 frames
    /// (no scene-cut keyframes), plus AAC-LC of a 440 Hz sine at 44.1 kHz mono.
    /// </summary>
    public static string H264AacFlv => GetFlv(
        "h264-aac",
        "-f lavfi -i testsrc=size=320x240:rate=30:duration=2 -f lavfi -i sine=frequency=440:sample_rate=44100:duration=2 "
        + "-c:v libx264 -profile:v high -preset veryfast -pix_fmt yuv420p -bf 2 -g 30 -keyint_min 30 -sc_threshold 0 "
        + "-c:a aac -b:a 64k -shortest");

    /// <summary>2 s of 320x240 testsrc, H.264 Baseline (no B-frames) only, keyframe every 30 frames.</summary>
    public static string H264OnlyFlv => GetFlv(
        "h264-baseline",
        "-f lavfi -i testsrc=size=320x240:rate=30:duration=2 "
        + "-c:v libx264 -profile:v baseline -preset veryfast -pix_fmt yuv420p -g 30 -keyint_min 30 -sc_threshold 0 -an");

    /// <summary>Where <see cref="VariableGopFlv"/> puts its keyframes (s): GOPs of 2, 2, 7, 1.2, 5.4, 2 and 3 s.</summary>
    public static readonly double[] VariableGopKeyframes = [0, 2, 4, 11, 12.2, 17.6, 19.6];

    /// <summary>
    /// 22.6 s of 320x180 testsrc2 at 30 fps with keyframes at irregular times (<see cref="VariableGopKeyframes"/>,
    /// as x264 with scene-cut or OBS's "auto" keyframes makes them), H.264 High with B-frames (2), plus AAC.
    /// </summary>
    public static string VariableGopFlv => GetFlv(
        "variable-gop",
        "-f lavfi -i testsrc2=size=320x180:rate=30:duration=22.6 -f lavfi -i sine=frequency=440:sample_rate=44100:duration=22.6 "
        + "-c:v libx264 -profile:v high -preset veryfast -pix_fmt yuv420p -bf 2 -x264-params keyint=240:min-keyint=10:scenecut=0 "
        + "-force_key_frames " + string.Join(',', VariableGopKeyframes.Select(k => k.ToString(System.Globalization.CultureInfo.InvariantCulture)))
        + " -c:a aac -b:a 64k -shortest");

    /// <summary>2 s of MP3 (libmp3lame) of a 440 Hz sine at 44.1 kHz, audio only.</summary>
    public static string Mp3Flv => GetFlv(
        "mp3",
        "-f lavfi -i sine=frequency=440:sample_rate=44100:duration=2 -c:a libmp3lame -b:a 64k -vn");

    /// <summary>
    /// 2 s of 320x240 testsrc at 30 fps, HEVC Main (libx265, B-frames, an IDR every 30 frames: closed GOPs, as live
    /// encoders make them, so every segment decodes on its own) in an .mp4 by ffmpeg: the source of
    /// <see cref="HevcAnnexB"/> and of its packet timing.
    /// </summary>
    public static string HevcMp4 => HevcMp4Of(2);

    /// <summary>The HEVC Annex B elementary stream of <see cref="HevcMp4"/> (<c>-c copy -f hevc</c>).</summary>
    public static string HevcAnnexB => HevcAnnexBOf(2);

    /// <summary>2 s of AAC-LC (440 Hz sine, 44.1 kHz mono, 64 kb/s) in an FLV by ffmpeg.</summary>
    public static string AacFlv => AacFlvOf(2);

    /// <summary>
    /// <see cref="HevcAnnexB"/> plus <see cref="AacFlv"/> as an Enhanced RTMP FLV (FourCC hvc1) built by our own
    /// code (<see cref="HevcFlvBuilder"/>), since ffmpeg before 6.1 cannot write HEVC into FLV.
    /// </summary>
    public static string HevcAacFlv => HevcAacFlvOf(2);

    /// <summary><see cref="HevcMp4"/> of any length.</summary>
    public static string HevcMp4Of(int seconds) => Generate(
        $"hevc-src-{seconds}s",
        ".mp4",
        $"-f lavfi -i testsrc=size=320x240:rate=30:duration={seconds} "
        + "-c:v libx265 -preset veryfast -pix_fmt yuv420p -x265-params keyint=30:min-keyint=30:scenecut=0:open-gop=0:log-level=error -tag:v hvc1");

    /// <summary><see cref="HevcAnnexB"/> of any length.</summary>
    public static string HevcAnnexBOf(int seconds) => Generate($"hevc-annexb-{seconds}s", ".hevc", $"-i \"{HevcMp4Of(seconds)}\" -map 0:v -c copy -f hevc");

    /// <summary><see cref="AacFlv"/> of any length.</summary>
    public static string AacFlvOf(int seconds) => GetFlv($"aac-{seconds}s", $"-f lavfi -i sine=frequency=440:sample_rate=44100:duration={seconds} -c:a aac -b:a 64k");

    /// <summary>
    /// <see cref="HevcAacFlv"/> of any length. Built once per test process, never cached across runs: a broken build
    /// of our writer must show in the file.
    /// </summary>
    public static string HevcAacFlvOf(int seconds) => s_built.GetOrAdd($"hevc-aac-{seconds}s", name => new Lazy<string>(() =>
    {
        var bytes = HevcFlvBuilder.Build(HevcFlvBuilder.ReadAccessUnits(HevcAnnexBOf(seconds), HevcMp4Of(seconds)), AacFlvOf(seconds));
        Directory.CreateDirectory(CacheDirectory);
        var path = Path.Combine(CacheDirectory, $"{name}-built-{Environment.ProcessId}-{Guid.NewGuid():N}.flv");
        File.WriteAllBytes(path, bytes);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => File.Delete(path);
        return path;
    })).Value;

    private static readonly ConcurrentDictionary<string, Lazy<string>> s_built = new();

    /// <summary>An FLV file made by ffmpeg from <paramref name="ffmpegArgs"/> (inputs and codec options; the output
    /// format and path are added).</summary>
    public static string GetFlv(string name, string ffmpegArgs) => Generate(name, ".flv", ffmpegArgs + " -f flv");

    /// <summary>A file made by ffmpeg from <paramref name="ffmpegArgs"/> (everything but the output path).</summary>
    public static string Generate(string name, string extension, string ffmpegArgs)
    {
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(ffmpegArgs)), 0, 4).ToLowerInvariant();
        var path = Path.Combine(CacheDirectory, $"{name}-{hash}{extension}");
        return s_files.GetOrAdd(path, p => new Lazy<string>(() => CreateOnce(p, ffmpegArgs))).Value;
    }

    private static string CreateOnce(string path, string ffmpegArgs)
    {
        if (File.Exists(path) && new FileInfo(path).Length > 0)
        {
            return path;
        }

        Directory.CreateDirectory(CacheDirectory);
        var temporary = Path.Combine(CacheDirectory, $"{Guid.NewGuid():N}.tmp{Path.GetExtension(path)}");
        try
        {
            RunFfmpeg($"-nostdin -hide_banner -loglevel error -y {ffmpegArgs} \"{temporary}\"");
            if (!File.Exists(temporary) || new FileInfo(temporary).Length == 0)
            {
                throw new InvalidOperationException($"ffmpeg produced no output for {Path.GetFileName(path)} (args: {ffmpegArgs}).");
            }

            File.Move(temporary, path, overwrite: true);
            return path;
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    private static void RunFfmpeg(string arguments)
    {
        var result = Run("ffmpeg", arguments);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"ffmpeg failed with exit code {result.ExitCode}.{Environment.NewLine}Command: ffmpeg {arguments}{Environment.NewLine}{result.Stderr}");
        }
    }

    private static (int ExitCode, string Stdout, string Stderr) Run(string fileName, string arguments)
    {
        var startInfo = new ProcessStartInfo(fileName, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };

        Process process;
        try
        {
            process = Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            throw new InvalidOperationException($"{fileName} is required to generate test media but could not be started: {exception.Message}", exception);
        }

        using (process)
        {
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(FfmpegTimeout))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{fileName} {arguments} did not finish within {FfmpegTimeout.TotalSeconds} s.");
            }

            process.WaitForExit();
            return (process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
        }
    }
}
