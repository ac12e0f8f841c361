using MediaServer.Tests.Infrastructure;

namespace MediaServer.Tests.EndToEnd;

/// <summary>
/// Low-latency HLS over MPEG-TS parts and over fMP4 (CMAF) parts, end to end: ffmpeg publishes in real time, hls.js (low-latency mode, its
/// default) plays in headless Chromium. No peer offers LL-HLS over TS; this establishes that hls.js loads TS parts
/// (not only whole segments), plays without a stall and ends cleanly; the same output is read back strictly.
/// </summary>
[TestFixture]
[NonParallelizable]
public class LowLatencyHlsTests
{
    private const int PlaySeconds = 60;

    [TestCase("ts", TestName = "TsParts_HlsJsLowLatency_LoadsPartsPlays60sWithoutAStall_AndTheStreamEndsCleanly")]
    [TestCase("fmp4", TestName = "Fmp4Parts_HlsJsLowLatency_LoadsPartsPlays60sWithoutAStall_AndTheStreamEndsCleanly")]
    public async Task Parts_HlsJsLowLatency(string container)
    {
        await using var server = await ServerProcess.StartAsync(["--MediaServer:Hls:PartDuration=00:00:00.5", "--MediaServer:Hls:SegmentDuration=00:00:02"]);
        var key = "ll-" + container;
        var query = "?container=" + container;
        using var publisher = Ffmpeg.StartPublishing(server.RtmpUrl("live", key), seconds: PlaySeconds + 15, out var publisherErrors, gop: 30);
        try
        {
            await server.WaitForMediaPlaylistAsync(key, static p => p.Split("#EXTINF").Length > 2);
            var playlist = await server.Http.GetStringAsync(new Uri(server.MediaPlaylistUrl(key) + query));
            Assert.That(playlist, Does.Contain("#EXT-X-PART-INF:PART-TARGET=0.500").And.Contain("#EXT-X-PRELOAD-HINT:TYPE=PART"), playlist);
            Assert.That(playlist, container == "fmp4" ? Does.Contain("#EXT-X-MAP:URI=").And.Contain(".m4s") : Does.Not.Contain("EXT-X-MAP"), playlist);
            var multivariant = await server.Http.GetStringAsync(new Uri(server.HlsUrl(key) + query));
            Assert.That(multivariant, Does.Contain("stream.m3u8?container=" + container), "the container choice is carried on");

            var playback = await BrowserPlayer.PlayAsync("hls", server.HlsUrl(key) + query, null, seconds: PlaySeconds);
            Assert.Multiple(() =>
            {
                Assert.That(playback.Ok, Is.True, playback.Raw);
                Assert.That(playback.Parts, Is.GreaterThan(PlaySeconds), "hls.js loaded parts, not only whole segments: " + playback.Raw);
                Assert.That(playback.Stalls, Is.Zero, "no stall in 60 s: " + playback.Raw);
                Assert.That(playback.Latency, Is.Not.Null.And.LessThan(3.0), "hls.js's own live-edge distance: " + playback.Raw);
            });

            TestContext.Out.WriteLine($"hls.js: parts {playback.Parts}, segments {playback.Fragments}, latency {playback.Latency:0.00} s");

            // The encoder reaches the end of its input and unpublishes: the stream ends at once.
            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(45));
            await publisher.WaitForExitAsync(exit.Token);
        }
        finally
        {
            ProcessRunner.KillQuietly(publisher);
        }

        _ = publisherErrors;
        var ended = await HlsOutput.WaitForPlaylistAsync(server, key, p => p.EndsWith("#EXT-X-ENDLIST\n", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        ended = await server.Http.GetStringAsync(new Uri(server.MediaPlaylistUrl(key) + query));
        Assert.That(ended, Does.EndWith("#EXT-X-ENDLIST\n").And.Not.Contain("#EXT-X-PRELOAD-HINT"), ended);
        var decode = await Ffmpeg.DecodeAsync(server.MediaPlaylistUrl(key) + query, TimeSpan.FromSeconds(120), "-vsync", "vfr", "-live_start_index", "0");
        Assert.That(decode.ExitCode, Is.Zero, decode.ToString());
        Assert.That(decode.StandardError.Trim(), Is.Empty, "ffmpeg reported errors decoding the LL playlist:\n" + decode.StandardError);
    }
}
