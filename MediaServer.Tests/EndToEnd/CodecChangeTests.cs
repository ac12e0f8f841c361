using System.Globalization;
using MediaServer.Tests.Infrastructure;

namespace MediaServer.Tests.EndToEnd;

/// <summary>
/// New codec parameters on the same connection (an encoder changing resolution): a new segment starts after
/// EXT-X-DISCONTINUITY, and players decode across the join.
/// </summary>
[TestFixture]
[NonParallelizable]
public class CodecChangeTests
{
    [Test]
    public async Task NewAvcSequenceHeaderWithADifferentSps_NextSegmentStartsAfterADiscontinuity_AndDecodesAcrossTheJoin()
    {
        var small = FlvClip.Load(TestMedia.H264AacFlv);
        var large = FlvClip.Load(TestMedia.GetFlv(
            "h264-aac-480x270",
            "-f lavfi -i testsrc=size=480x270:rate=30:duration=2 -f lavfi -i sine=frequency=440:sample_rate=44100:duration=2 "
            + "-c:v libx264 -profile:v high -preset veryfast -pix_fmt yuv420p -bf 2 -g 30 -keyint_min 30 -sc_threshold 0 "
            + "-c:a aac -b:a 64k -shortest"));
        var smallConfig = small.Single(t => t.IsSequenceHeader && t.Type == Core.Flv.FlvTagType.Video).Body;
        var largeConfig = large.Single(t => t.IsSequenceHeader && t.Type == Core.Flv.FlvTagType.Video).Body;
        Assert.That(largeConfig, Is.Not.EqualTo(smallConfig), "the second clip has other codec parameters");

        // 6 s of 320x240, then (same connection, continuing timeline) the new sequence headers and 6 s of 480x270.
        const long start = 10_000;
        var period = FlvClip.PeriodMs(small);
        var tags = FlvClip.Loop(small, 3, start, period);
        tags.AddRange(FlvClip.Loop(large, 3, start + (3L * period), FlvClip.PeriodMs(large)));

        await using var server = await ServerProcess.StartAsync(["--MediaServer:Hls:PlaylistLength=30"]);
        const string key = "codec-change";
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using (var publisher = await SyntheticRtmpPublisher.StartAsync(server.RtmpPort, "live", key, ChunkFraming.CompressedWithContinuations, cts.Token))
        {
            await publisher.SendAsync(tags, cts.Token);
            await publisher.UnpublishAsync(cts.Token);
        }

        var playlist = await HlsOutput.WaitForPlaylistAsync(server, key, p => p.EndsWith("#EXT-X-ENDLIST\n", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        var segments = await HlsOutput.FetchSegmentsAsync(server.Http, server.MediaPlaylistUrl(key), playlist);
        Assert.That(segments.Count(s => s.Discontinuity), Is.EqualTo(1), playlist);
        var join = segments.FindIndex(s => s.Discontinuity);

        // Every segment before the tag is 320 pixels wide, every one after it 480: the tag sits exactly at the change.
        var widths = new List<int>();
        foreach (var segment in segments)
        {
            var url = new Uri(new Uri(server.MediaPlaylistUrl(key)), segment.Uri).ToString();
            var probe = await Ffmpeg.ProbeAsync(url, "-select_streams", "v", "-show_entries", "stream=width", "-of", "csv=p=0");
            Assert.That(probe.ExitCode, Is.Zero, probe.ToString());
            widths.Add(int.Parse(probe.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[0], CultureInfo.InvariantCulture));
        }

        Assert.Multiple(() =>
        {
            Assert.That(join, Is.GreaterThan(0), playlist);
            Assert.That(widths.Take(join), Is.All.EqualTo(320), string.Join(",", widths));
            Assert.That(widths.Skip(join), Is.All.EqualTo(480), string.Join(",", widths));
            Assert.That(segments.Sum(s => s.Duration), Is.EqualTo(6 * period / 1000.0).Within(1.0), playlist);
            Assert.That(HlsOutput.TimelineProblems(segments), Is.Empty, playlist);
        });

        var decode = await Ffmpeg.DecodeAsync(server.MediaPlaylistUrl(key), TimeSpan.FromSeconds(120));
        Assert.That(decode.ExitCode, Is.Zero, decode.ToString());
        Assert.That(decode.StandardError.Trim(), Is.Empty, "ffmpeg reported errors decoding across the join:\n" + decode.StandardError);
    }
}
