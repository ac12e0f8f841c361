using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using MediaServer.Tests.Infrastructure;

namespace MediaServer.Tests.EndToEnd;

/// <summary>
/// Streams that are not H.264 + AAC, published by real ffmpeg to the real server: audio only (cut by time),
/// video only, and H.264 with MP3. Each ends in a playlist ffmpeg decodes without an error, with the CODECS
/// the multivariant playlist announces matching what is in it.
/// </summary>
[TestFixture]
[NonParallelizable]
public partial class StreamShapesTests
{
    private ServerProcess _server = null!;

    [OneTimeSetUp]
    public async Task StartServer() => _server = await ServerProcess.StartAsync();

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    [TestCase("aac-only", "mp4a.40.2", "aac", TestName = "AudioOnlyAac_IsCutByTime_AndDecodes")]
    [TestCase("h264-only", "avc1.64001e", "h264", TestName = "VideoOnlyH264_Decodes")]
    [TestCase("h264-mp3", "avc1.64001e,mp4a.40.34", "h264,mp3", TestName = "H264WithMp3_Decodes")]
    public async Task Publish(string shape, string codecs, string codecNames)
    {
        string[] input = shape switch
        {
            "aac-only" => ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "7", "-c:a", "aac", "-b:a", "96k"],
            "h264-only" => ["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-t", "7", .. H264],
            _ => ["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
                "-t", "7", .. H264, "-c:a", "libmp3lame", "-b:a", "128k"],
        };
        var publish = await ProcessRunner.RunAsync("ffmpeg",
            ["-hide_banner", "-nostdin", "-loglevel", "error", .. input, "-f", "flv", _server.RtmpUrl("live", shape)], TimeSpan.FromSeconds(60));
        Assert.That(publish.ExitCode, Is.Zero, publish.ToString());

        var playlist = await _server.WaitForPlaylistEndAsync(shape);
        var durations = Extinf().Matches(playlist).Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
        Assert.That(durations, Has.Count.GreaterThanOrEqualTo(3), playlist);
        Assert.That(durations.Sum(), Is.EqualTo(7).Within(0.25), playlist);
        if (shape == "aac-only")
        {
            // No keyframes to wait for: every segment but the last is cut at the first frame at or after 2 s.
            Assert.That(durations.SkipLast(1), Has.All.InRange(2.0, 2.05), playlist);
        }

        using var multivariant = await _server.Http.GetAsync(new Uri(_server.HlsUrl(shape)));
        Assert.That(await multivariant.Content.ReadAsStringAsync(), Does.Contain($"CODECS=\"{codecs}\""));

        var decode = await Ffmpeg.DecodeAsync(_server.HlsUrl(shape), TimeSpan.FromSeconds(60));
        Assert.That(decode.ExitCode, Is.Zero, decode.ToString());
        Assert.That(decode.StandardError.Trim(), Is.Empty, "ffmpeg reported decode errors:\n" + decode.StandardError);

        // ffprobe lists an HLS input's streams twice (under its program and on their own).
        var probe = await Ffmpeg.ProbeAsync(_server.MediaPlaylistUrl(shape), "-show_entries", "stream=codec_name", "-of", "csv=p=0");
        Assert.That(string.Join(",", probe.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().Order()),
            Is.EqualTo(codecNames), probe.ToString());
    }

    private static readonly string[] H264 =
        ["-c:v", "libx264", "-profile:v", "high", "-preset", "veryfast", "-g", "30", "-pix_fmt", "yuv420p"];

    [GeneratedRegex(@"#EXTINF:([0-9.]+),")]
    private static partial Regex Extinf();
}
