using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using MediaServer.Tests.Infrastructure;

namespace MediaServer.Tests.EndToEnd;

/// <summary>
/// <c>GET /metrics</c> of the real server in the Prometheus text format: the HLS histograms fed by a real ffmpeg
/// publisher and LL-HLS blocking requests, the process figures, and the bearer secret when one is configured.
/// </summary>
[TestFixture]
[NonParallelizable]
public class MetricsEndpointTests
{
    [Test]
    public async Task LowLatencyStream_MetricsCountListedFramesAndBlockedAnswers_AndTheBearerSecretGuardsThem()
    {
        Tools.RequireFfmpeg();
        await using var server = await ServerProcess.StartAsync([
            "--MediaServer:Hls:PartDuration=00:00:00.5", "--MediaServer:Hls:SegmentDuration=00:00:01", "--MediaServer:Metrics:BearerToken=scrape-secret"]);
        using var publisher = Ffmpeg.StartPublishing(server.RtmpUrl("live", "mkey-7f3a"), seconds: 30, out _, gop: 30);
        try
        {
            var playlist = await server.WaitForMediaPlaylistAsync("mkey-7f3a", static p => p.Split("#EXTINF").Length > 2);
            // The fMP4 rendition is made while watched: this request starts it.
            Assert.That(await server.Http.GetStringAsync(new Uri(server.MediaPlaylistUrl("mkey-7f3a") + "?container=fmp4")), Does.Contain("#EXT-X-MAP"));
            var msn = long.Parse(Regex.Match(playlist, @"#EXT-X-MEDIA-SEQUENCE:(\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
            var segments = Regex.Count(playlist, "#EXTINF");
            // The next segment's first part does not exist yet: the request blocks until it does.
            using var blocked = await server.Http.GetAsync(new Uri(server.MediaPlaylistUrl("mkey-7f3a") + $"?_HLS_msn={msn + segments + 1}&_HLS_part=0"));
            Assert.That(blocked.StatusCode, Is.EqualTo(HttpStatusCode.OK));

            using var anonymous = await server.Http.GetAsync(new Uri(server.HttpBase, "metrics"));
            Assert.That(anonymous.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), "a bearer secret is configured");

            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(server.HttpBase, "metrics"));
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "scrape-secret");
            using var response = await server.Http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), text);
            Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo("text/plain"));

            Assert.Multiple(() =>
            {
                Assert.That(Sample(text, "mediaserver_hls_frame_listed_seconds_count{container=\"ts\"}"), Is.GreaterThan(30), "every listed video frame is counted");
                Assert.That(Sample(text, "mediaserver_hls_frame_listed_seconds_count{container=\"fmp4\"}"), Is.GreaterThan(0), "since it was asked for");
                Assert.That(Sample(text, "mediaserver_hls_blocked_answer_seconds_count{kind=\"playlist\"}"), Is.GreaterThanOrEqualTo(1), "the blocked request");
                Assert.That(Sample(text, "mediaserver_hls_blocked_answer_seconds_bucket{kind=\"playlist\",le=\"+Inf\"}"), Is.GreaterThanOrEqualTo(1));
                Assert.That(Sample(text, "process_cpu_seconds_total"), Is.GreaterThan(0));
                Assert.That(text, Does.Not.Contain("mkey-7f3a").And.Not.Contain("client_address"), "no stream keys or remote addresses in labels");
            });
        }
        finally
        {
            ProcessRunner.KillQuietly(publisher);
        }
    }

    // The value of one sample line (name and labels exactly as exported).
    private static double Sample(string text, string series)
    {
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        Assert.That(line, Is.Not.Null, $"{series} missing from /metrics:\n{text}");
        return double.Parse(line![(series.Length + 1)..], CultureInfo.InvariantCulture);
    }
}
