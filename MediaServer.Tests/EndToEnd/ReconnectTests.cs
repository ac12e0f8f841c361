using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using MediaServer.Tests.Infrastructure;

namespace MediaServer.Tests.EndToEnd;

/// <summary>
/// Encoders that drop and come back: one playlist continues across the join with a discontinuity, the
/// window expiring ends it, and a second publisher on a live key takes over.
/// </summary>
[TestFixture]
[NonParallelizable]
public partial class ReconnectTests
{
    /// <summary>Reconnect waits span the window and a few segments: more patience than the default.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(40);

    private static int Count(string text, string what) => Regex.Count(text, Regex.Escape(what));

    private static int Tag(string playlist, string tag)
    {
        var match = Regex.Match(playlist, "#" + tag + @":(\d+)");
        return match.Success ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
    }

    [Test]
    public async Task PublisherDropsAndReturns_PlaylistContinuesWithDiscontinuity_ThenWindowExpiryEndsIt()
    {
        await using var server = await ServerProcess.StartAsync(
            ["--MediaServer:Streams:ReconnectWindow=00:00:06", "--MediaServer:Hls:PlaylistLength=3"]);
        const string key = "blip";

        using (var first = Ffmpeg.StartPublishing(server.RtmpUrl("live", key), seconds: 60, out _))
        {
            await server.WaitForMediaPlaylistAsync(key, p => Count(p, "#EXTINF") >= 2, Patience);
            first.Kill(); // SIGKILL: the connection drops without an unpublish
            await first.WaitForExitAsync();
        }

        await Task.Delay(1000);
        var during = await server.MediaPlaylistAsync(key);
        Assert.That(during, Does.Not.Contain("#EXT-X-ENDLIST"), "the playlist stays live during the reconnect window");
        var sequenceBefore = Tag(during, "EXT-X-MEDIA-SEQUENCE");

        using (var second = Ffmpeg.StartPublishing(server.RtmpUrl("live", key), seconds: 60, out _))
        {
            var joined = await server.WaitForMediaPlaylistAsync(key, p => p.Contains("#EXT-X-DISCONTINUITY\n", StringComparison.Ordinal) && p.Split("#EXT-X-DISCONTINUITY\n")[1].Contains("#EXTINF", StringComparison.Ordinal), Patience);
            Assert.That(Tag(joined, "EXT-X-MEDIA-SEQUENCE"), Is.GreaterThanOrEqualTo(sequenceBefore));

            // Decode across the join while both sides are in the window: from the first listed segment to 4 s past
            // the discontinuity, with nothing on stderr (ffmpeg exits 0 even after logging decode errors).
            var beforeJoin = joined.Split("#EXT-X-DISCONTINUITY\n")[0].Split('\n')
                .Where(l => l.StartsWith("#EXTINF:", StringComparison.Ordinal))
                .Sum(l => double.Parse(l[8..].TrimEnd(','), System.Globalization.CultureInfo.InvariantCulture));
            var span = (beforeJoin + 4).ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
            // -vsync vfr: at EXT-X-DISCONTINUITY the new publisher's timeline starts again, ffmpeg's MPEG-TS
            // discontinuity correction splices it on with a one-frame overlap, and its null muxer would report that
            // splice as "non monotonically increasing dts" (its own, not the server's).
            var decode = await Ffmpeg.DecodeAsync(server.HlsUrl(key), TimeSpan.FromSeconds(60), "-live_start_index", "0", "-t", span, "-vsync", "vfr");
            Assert.That(decode.ExitCode, Is.Zero, decode.ToString());
            Assert.That(decode.StandardError.Trim(), Is.Empty, $"decoding {span} s across the join printed errors:\n" + decode.StandardError);

            // Once the discontinuity's segment leaves the window, EXT-X-DISCONTINUITY-SEQUENCE counts it.
            var later = await server.WaitForMediaPlaylistAsync(key, p => !p.Contains("#EXT-X-DISCONTINUITY\n", StringComparison.Ordinal) && Tag(p, "EXT-X-MEDIA-SEQUENCE") > sequenceBefore + 3, Patience);
            Assert.That(Tag(later, "EXT-X-DISCONTINUITY-SEQUENCE"), Is.EqualTo(1), later);

            second.Kill();
            await second.WaitForExitAsync();
        }

        var ended = await server.WaitForMediaPlaylistAsync(key, p => p.Contains("#EXT-X-ENDLIST", StringComparison.Ordinal), TimeSpan.FromSeconds(20));
        Assert.That(ended, Does.EndWith("#EXT-X-ENDLIST\n"));
    }

    [Test]
    public async Task SecondPublisherOnALiveKey_TakesOver()
    {
        await using var server = await ServerProcess.StartAsync();
        const string key = "takeover";
        using var first = Ffmpeg.StartPublishing(server.RtmpUrl("live", key), seconds: 60, out _);
        try
        {
            await server.WaitForMediaPlaylistAsync(key, p => Count(p, "#EXTINF") >= 1, Patience);
            using var second = Ffmpeg.StartPublishing(server.RtmpUrl("live", key), seconds: 60, out _);
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                await first.WaitForExitAsync(cts.Token); // the old connection is closed by the server
                Assert.That(second.HasExited, Is.False, "the new publisher goes on");
                await server.WaitForMediaPlaylistAsync(key, p => p.Contains("#EXT-X-DISCONTINUITY", StringComparison.Ordinal), Patience);
            }
            finally
            {
                ProcessRunner.KillQuietly(second);
            }
        }
        finally
        {
            ProcessRunner.KillQuietly(first);
        }
    }
}
