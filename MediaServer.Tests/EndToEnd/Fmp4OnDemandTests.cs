using System.Net;
using MediaServer.Tests.Infrastructure;

namespace MediaServer.Tests.EndToEnd;

/// <summary>
/// The fMP4 rendition costs nothing until it is watched (MediaServer:Hls:Fmp4OnDemand): the real server with a real
/// ffmpeg publisher makes only MPEG-TS until a player asks for fMP4; that first request waits for the first segment
/// (started from the cached GOP) instead of a 404; the rendition stops after Fmp4IdleTimeout without requests, and the
/// next request starts it again, under a new session.
/// </summary>
[TestFixture]
[NonParallelizable]
public class Fmp4OnDemandTests
{
    [Test]
    public async Task Fmp4_StartsOnTheFirstRequest_StopsWhenUnwatched_AndStartsAgain()
    {
        Tools.RequireFfmpeg();
        await using var server = await ServerProcess.StartAsync([
            "--MediaServer:Hls:PartDuration=00:00:00.5", "--MediaServer:Hls:SegmentDuration=00:00:01", "--MediaServer:Hls:Fmp4IdleTimeout=00:00:02"]);
        using var publisher = Ffmpeg.StartPublishing(server.RtmpUrl("live", "ondemand"), seconds: 60, out _, gop: 30);
        try
        {
            var ts = await server.WaitForMediaPlaylistAsync("ondemand", static p => p.Split("#EXTINF").Length > 3);
            Assert.That(ts, Does.Not.Contain("EXT-X-RENDITION-REPORT"), "no fMP4 rendition yet: nothing to report");
            Assert.That(server.Log, Does.Not.Contain("fMP4 rendition started"));

            var fmp4Url = new Uri(server.MediaPlaylistUrl("ondemand") + "?container=fmp4");
            var first = await server.Http.GetAsync(fmp4Url);
            var playlist = await first.Content.ReadAsStringAsync();
            Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the first request waits for the first segment, no 404");
            Assert.That(playlist, Does.Contain("#EXT-X-MAP:URI=").And.Contain(".m4s").And.Contain("#EXTINF"), playlist);
            Assert.That(server.Log, Does.Contain("fMP4 rendition started for a viewer"));
            var session = playlist.Split('\n').First(l => l.EndsWith(".m4s", StringComparison.Ordinal)).Split('-')[0];
            Assert.That(MediaSequence(playlist), Is.GreaterThan(LastSequence(ts)),
                "numbered on from the TS rendition (hls.js makes no blocking request after a last segment numbered 0):\n" + ts + "\n" + playlist);

            var decode = await Ffmpeg.DecodeAsync(fmp4Url.ToString(), TimeSpan.FromSeconds(60), "-t", "2");
            Assert.That(decode.ExitCode, Is.Zero, decode.ToString());
            Assert.That(decode.StandardError.Trim(), Is.Empty, "the rendition started mid-stream decodes cleanly:\n" + decode.StandardError);

            var reported = await server.WaitForMediaPlaylistAsync("ondemand", static p => p.Contains("#EXT-X-RENDITION-REPORT:URI=\"stream.m3u8?container=fmp4\"", StringComparison.Ordinal));
            Assert.That(reported, Does.Contain("LAST-PART="));
            var reportedMsn = long.Parse(reported.Split("LAST-MSN=")[1].Split(',')[0], System.Globalization.CultureInfo.InvariantCulture);
            Assert.That(reportedMsn, Is.InRange(LastSequence(reported) - 1, LastSequence(reported) + 2),
                "the two renditions report about the same media sequence: " + reported);

            // Nobody asks for fMP4 now: it stops after its idle timeout, and TS stops reporting it.
            Assert.That(await server.WaitForLogAsync("fMP4 rendition stopped", TimeSpan.FromSeconds(15)), Is.True, server.Log);
            var after = await server.WaitForMediaPlaylistAsync("ondemand", static p => !p.Contains("RENDITION-REPORT", StringComparison.Ordinal));
            Assert.That(after, Does.Contain("#EXT-X-PART:"), "the TS rendition goes on");

            var again = await server.Http.GetStringAsync(fmp4Url);
            Assert.That(again, Does.Contain("#EXT-X-MAP:URI="), again);
            Assert.That(again, Does.Not.Contain(session + "-"), "a new run of the rendition: new segment names, never an old cached one");
        }
        finally
        {
            ProcessRunner.KillQuietly(publisher);
        }
    }

    private static long MediaSequence(string playlist) =>
        long.Parse(playlist.Split("#EXT-X-MEDIA-SEQUENCE:")[1].Split('\n')[0], System.Globalization.CultureInfo.InvariantCulture);

    // The sequence number of the last whole segment listed.
    private static long LastSequence(string playlist) => MediaSequence(playlist) + playlist.Split("#EXTINF").Length - 2;
}
