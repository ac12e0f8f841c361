using MediaServer.Tests.Infrastructure;

namespace MediaServer.Tests.EndToEnd;

/// <summary>
/// Low-latency HLS over MPEG-TS parts, end to end: ffmpeg publishes in real time, hls.js (low-latency mode, its
/// default) plays in headless Chromium. No peer offers LL-HLS over TS; this establishes that hls.js loads TS parts
/// (not only whole segments), plays without a stall and ends cleanly; the same output is read back strictly.
/// </summary>
[TestFixture]
[NonParallelizable]
public class LowLatencyHlsTests
{
    private const int PlaySeconds = 60;

    [Test]
    public async Task TsParts_HlsJsLowLatency_LoadsPartsPlays60sWithoutAStall_AndTheStreamEndsCleanly()
    {
        await using var server = await ServerProcess.StartAsync(["--MediaServer:Hls:PartDuration=00:00:00.5", "--MediaServer:Hls:SegmentDuration=00:00:02"]);
        const string key = "ll-ts";
        using var publisher = Ffmpeg.StartPublishing(server.RtmpUrl("live", key), seconds: PlaySeconds + 15, out var publisherErrors, gop: 30);
        try
        {
            var playlist = await server.WaitForMediaPlaylistAsync(key, static p => p.Split("#EXTINF").Length > 2);
            Assert.That(playlist, Does.Contain("#EXT-X-PART-INF:PART-TARGET=0.500").And.Contain("#EXT-X-PRELOAD-HINT:TYPE=PART"), playlist);

            var playback = await BrowserPlayer.PlayAsync("hls", server.HlsUrl(key), null, seconds: PlaySeconds);
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
        var ended = await server.WaitForPlaylistEndAsync(key);
        Assert.That(ended, Does.EndWith("#EXT-X-ENDLIST\n").And.Not.Contain("#EXT-X-PRELOAD-HINT"), ended);
        var decode = await Ffmpeg.DecodeAsync(server.MediaPlaylistUrl(key), TimeSpan.FromSeconds(120), "-vsync", "vfr", "-live_start_index", "0");
        Assert.That(decode.ExitCode, Is.Zero, decode.ToString());
        Assert.That(decode.StandardError.Trim(), Is.Empty, "ffmpeg reported errors decoding the LL playlist:\n" + decode.StandardError);
    }
}
