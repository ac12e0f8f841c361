using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using MediaServer.Tests.Infrastructure;

namespace MediaServer.Tests.EndToEnd;

/// <summary>
/// The spine end to end: real ffmpeg publishes H.264 High (B-frames) + AAC over RTMP to the real server
/// process; ffmpeg and ffprobe read the HLS it serves and the RTMP it plays back.
/// </summary>
[TestFixture]
[NonParallelizable]
public partial class RtmpToHlsTests
{
    private ServerProcess _server = null!;

    [OneTimeSetUp]
    public async Task StartServer() => _server = await ServerProcess.StartAsync();

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    [Test]
    public async Task Publish_ThenStop_PlaylistEndsAndDecodesWithoutErrors()
    {
        const string key = "e2e-vod";
        var publish = await Ffmpeg.PublishAsync(_server.RtmpUrl("live", key), seconds: 9, realtime: false);
        Assert.That(publish.ExitCode, Is.Zero, publish.ToString());

        var playlist = await _server.WaitForPlaylistEndAsync(key);
        var segments = SegmentUris().Matches(playlist).Select(m => m.Groups[1].Value).ToList();
        Assert.That(segments, Has.Count.GreaterThanOrEqualTo(3), playlist);
        Assert.That(playlist, Does.StartWith("#EXTM3U\n"));
        Assert.That(playlist, Does.Contain("#EXT-X-TARGETDURATION:2\n"));
        Assert.That(playlist, Does.Contain("#EXT-X-PROGRAM-DATE-TIME:"));

        var decode = await Ffmpeg.DecodeAsync(_server.HlsUrl(key), TimeSpan.FromSeconds(60));
        Assert.That(decode.ExitCode, Is.Zero, decode.ToString());
        Assert.That(decode.StandardError.Trim(), Is.Empty, "ffmpeg reported decode errors:\n" + decode.StandardError);

        var probe = await Ffmpeg.ProbeAsync(_server.HlsUrl(key), "-show_entries", "stream=codec_name,profile,has_b_frames", "-of", "compact");
        Assert.That(probe.ExitCode, Is.Zero, probe.ToString());
        Assert.That(probe.StandardOutput, Does.Contain("codec_name=h264").And.Contain("codec_name=aac"), probe.StandardOutput);
        Assert.That(probe.StandardOutput, Does.Contain("profile=High"), probe.StandardOutput);

        foreach (var segment in segments)
        {
            var url = new Uri(new Uri(_server.HlsUrl(key)), segment).ToString();
            var first = await Ffmpeg.ProbeAsync(url, "-select_streams", "v:0", "-show_entries", "frame=key_frame,pict_type",
                "-read_intervals", "%+#1", "-of", "compact=p=0:nk=1");
            // ffprobe 5.1 prints an empty side-data column after the two fields ("1|I|"), newer ones do not.
            Assert.That(first.StandardOutput.Trim().Split('\n')[0].TrimEnd('|'), Is.EqualTo("1|I"), $"{segment} must start with a keyframe");
        }
    }

    [Test]
    public async Task Playlist_AndSegments_HaveContentTypesCachingAndCors()
    {
        const string key = "e2e-headers";
        var publish = await Ffmpeg.PublishAsync(_server.RtmpUrl("live", key), seconds: 5, realtime: false);
        Assert.That(publish.ExitCode, Is.Zero, publish.ToString());
        var playlist = await _server.WaitForPlaylistEndAsync(key);

        using var request = new HttpRequestMessage(HttpMethod.Get, _server.HlsUrl(key));
        request.Headers.Add("Origin", "http://player.example");
        using var response = await _server.Http.SendAsync(request);
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/vnd.apple.mpegurl"));
        Assert.That(response.Headers.CacheControl?.NoCache, Is.True);
        Assert.That(response.Headers.GetValues("Access-Control-Allow-Origin"), Does.Contain("*"));

        var segment = SegmentUris().Match(playlist).Groups[1].Value;
        using var segmentResponse = await _server.Http.GetAsync(new Uri(new Uri(_server.HlsUrl(key)), segment));
        Assert.That(segmentResponse.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(segmentResponse.Content.Headers.ContentType?.MediaType, Is.EqualTo("video/mp2t"));
        var bytes = await segmentResponse.Content.ReadAsByteArrayAsync();
        Assert.That(bytes.Length % 188, Is.Zero);
        Assert.That(bytes[0], Is.EqualTo(0x47));

        using var missing = await _server.Http.GetAsync(new Uri(_server.HttpBase, "live/no-such-stream/index.m3u8"));
        Assert.That(missing.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task Play_OverRtmp_WhileLive_DecodesFromAKeyframe()
    {
        const string key = "e2e-play";
        using var publisher = Ffmpeg.StartPublishing(_server.RtmpUrl("live", key), seconds: 30, out var publisherErrors);
        try
        {
            await _server.WaitForMediaPlaylistAsync(key, p => p.Contains("#EXTINF", StringComparison.Ordinal));
            var play = await ProcessRunner.RunAsync("ffmpeg",
                ["-hide_banner", "-nostdin", "-loglevel", "error", "-i", _server.RtmpUrl("live", key), "-t", "3", .. Ffmpeg.NullOutput],
                TimeSpan.FromSeconds(30));
            Assert.That(play.ExitCode, Is.Zero, play.ToString());
            Assert.That(play.StandardError.Trim(), Is.Empty, play.StandardError);

            var probe = await ProcessRunner.RunAsync("ffprobe",
                ["-hide_banner", "-loglevel", "error", "-read_intervals", "%+2", "-show_entries", "stream=codec_name", "-of", "compact", _server.RtmpUrl("live", key)],
                TimeSpan.FromSeconds(30));
            Assert.That(probe.StandardOutput, Does.Contain("codec_name=h264").And.Contain("codec_name=aac"), probe.ToString());
        }
        finally
        {
            ProcessRunner.KillQuietly(publisher);
        }

        Assert.That(publisherErrors.ToString(), Does.Not.Contain("Broken pipe").And.Not.Contain("Connection reset"));
    }

    [Test]
    public async Task Play_UnknownStream_IsRefusedQuickly()
    {
        var stopwatch = Stopwatch.StartNew();
        var play = await ProcessRunner.RunAsync("ffmpeg",
            ["-hide_banner", "-nostdin", "-loglevel", "error", "-i", _server.RtmpUrl("live", "nobody-here"), "-f", "null", "-"],
            TimeSpan.FromSeconds(30));
        Assert.That(play.ExitCode, Is.Not.Zero);
        Assert.That(play.TimedOut, Is.False);
        Assert.That(stopwatch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(15)));
    }

    [GeneratedRegex(@"^([^#\s][^\s]*\.ts[^\s]*)$", RegexOptions.Multiline)]
    private static partial Regex SegmentUris();
}
