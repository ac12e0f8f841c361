using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using MediaServer.Core.Flv;
using MediaServer.Core.Media;
using MediaServer.Rtmp.Client;
using MediaServer.Tests.Infrastructure;

namespace MediaServer.Tests.EndToEnd;

/// <summary>
/// HEVC end to end: x265's stream in an Enhanced RTMP FLV of our making (<see cref="TestMedia.HevcAacFlvOf"/>),
/// published in real time by our own <see cref="RtmpPublishClient"/> (ffmpeg 5.1 cannot publish HEVC) to the real
/// server, read back by ffprobe/ffmpeg from the fMP4 rendition an HEVC stream is served in by default, and from its
/// MPEG-TS rendition.
/// </summary>
[TestFixture]
[NonParallelizable]
public class HevcPublishTests
{
    private const int Seconds = 6;

    [Test]
    public async Task HevcAacPublish_OurRtmpClient_Fmp4Hvc1DecodesCleanlyWithAudioFromTheFirstSegment()
    {
        // An HEVC stream's default rendition is fMP4; the first request for it, while live, starts it (from the
        // cached GOP) and waits for its first segment.
        await using var server = await PublishAsync("hevc", static async server =>
        {
            var live = await server.WaitForMediaPlaylistAsync("hevc", static p => p.Contains("#EXTINF", StringComparison.Ordinal));
            Assert.That(live, Does.Contain("#EXT-X-MAP:URI=").And.Contain(".m4s"), live);
        });

        var playlist = await server.WaitForPlaylistEndAsync("hevc");
        var url = server.MediaPlaylistUrl("hevc");

        var probe = await Ffmpeg.ProbeAsync(url, "-show_entries", "stream=codec_type,codec_name,codec_tag_string,width,height,sample_rate", "-of", "compact=p=0");
        Assert.That((probe.ExitCode, probe.StandardError), Is.EqualTo((0, "")), probe.ToString());
        var streams = probe.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.That(streams, Has.Some.Contains("codec_type=video").And.Contains("codec_name=hevc").And.Contains("codec_tag_string=hvc1")
            .And.Contains("width=320").And.Contains("height=240"), probe.StandardOutput);
        Assert.That(streams, Has.Some.Contains("codec_type=audio").And.Contains("codec_name=aac").And.Contains("sample_rate=44100"), probe.StandardOutput);

        var decode = await Ffmpeg.DecodeAsync(url, TimeSpan.FromSeconds(60));
        Assert.That(decode.ExitCode, Is.Zero, decode.ToString());
        Assert.That(decode.StandardError.Trim(), Is.Empty, "every HEVC and AAC frame decodes:\n" + decode.StandardError);

        // Whole GOPs from the keyframe the rendition started at to the end: every published picture after it decodes.
        var counted = await Ffmpeg.ProbeAsync(url, "-count_frames", "-select_streams", "v", "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0");
        var decoded = int.Parse(counted.StandardOutput.Split('\n')[0].Trim(), CultureInfo.InvariantCulture); // once per HLS program
        Assert.That(decoded % 30, Is.Zero, $"{decoded} pictures: whole 30-frame GOPs");
        Assert.That(decoded, Is.GreaterThanOrEqualTo(90), "at least half the stream");

        // The first segment alone (init + first media segment) has both tracks, audio starting with the video.
        var segments = playlist.Split('\n').Where(l => l.EndsWith(".m4s", StringComparison.Ordinal)).ToList();
        var init = playlist.Split('\n').First(l => l.StartsWith("#EXT-X-MAP:URI=", StringComparison.Ordinal))["#EXT-X-MAP:URI=".Length..].Trim('"');
        using var dir = MediaTestData.TempDirectory("hevc-e2e");
        var first = Path.Combine(dir, "first.mp4");
        File.WriteAllBytes(first, [.. await server.Http.GetByteArrayAsync(new Uri(new Uri(url), init)), .. await server.Http.GetByteArrayAsync(new Uri(new Uri(url), segments[0]))]);
        var packets = await Ffmpeg.ProbeAsync(first, "-show_entries", "packet=codec_type,pts_time,dts_time", "-of", "csv=p=0");
        Assert.That(packets.StandardError, Is.Empty, packets.ToString());
        var rows = packets.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(l => l.Split(',')).ToList();
        var videoDts = rows.Where(r => r[0] == "video").Select(r => double.Parse(r[2], CultureInfo.InvariantCulture)).ToList();
        var audioPts = rows.Where(r => r[0] == "audio").Select(r => double.Parse(r[1], CultureInfo.InvariantCulture)).ToList();
        var firstDuration = double.Parse(playlist.Split('\n').First(l => l.StartsWith("#EXTINF:", StringComparison.Ordinal))[8..].TrimEnd(','), CultureInfo.InvariantCulture);
        Assert.That(videoDts, Has.Count.EqualTo((int)Math.Round(firstDuration * 30)), "whole GOPs of 30 fps video:\n" + playlist);
        Assert.That(audioPts, Has.Count.GreaterThanOrEqualTo((int)(firstDuration * 44100 / 1024) - 1), $"the segment's {firstDuration} s of AAC (1024 samples at 44.1 kHz a frame)");
        Assert.That(audioPts.Min() - videoDts.Min(), Is.InRange(-0.001, 0.034), "audio starts with the video, within one video frame");
    }

    [Test]
    public async Task HevcAacPublish_OurRtmpClient_TsRenditionHasAContinuousTimeline()
    {
        await using var server = await PublishAsync("hevcts");

        var url = server.MediaPlaylistUrl("hevcts") + "?container=ts";
        var playlist = await WaitForEndAsync(server, url);
        var segments = await HlsOutput.FetchSegmentsAsync(server.Http, url, playlist);
        Assert.That(segments, Has.Count.GreaterThanOrEqualTo(Seconds - 1), playlist);
        Assert.That(segments.Select(s => s.Ts.Pmts[0].Streams.Select(st => st.StreamType)), Is.All.EquivalentTo(new[] { 0x24, 0x0F }), "HEVC (0x24) and AAC (0x0F) in every segment");
        Assert.That(HlsOutput.StrictProblems(playlist, segments), Is.Empty);

        var decode = await Ffmpeg.DecodeAsync(url, TimeSpan.FromSeconds(60));
        Assert.That((decode.ExitCode, decode.StandardError.Trim()), Is.EqualTo((0, "")), decode.ToString());
    }

    /// <summary>
    /// Starts a server (1 s segments, all kept) and publishes <see cref="Seconds"/> s of HEVC + AAC to it as
    /// <paramref name="key"/> in real time, running <paramref name="whileLive"/> meanwhile; returns once unpublished.
    /// </summary>
    private static async Task<ServerProcess> PublishAsync(string key, Func<ServerProcess, Task>? whileLive = null)
    {
        Tools.RequireFfmpeg();
        var frames = LoadFrames(TestMedia.HevcAacFlvOf(Seconds));
        var server = await ServerProcess.StartAsync(["--MediaServer:Hls:SegmentDuration=00:00:01", "--MediaServer:Hls:PlaylistLength=20"]);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            var publish = PublishInRealTimeAsync(server, key, frames, timeout.Token);
            try
            {
                if (whileLive is not null)
                {
                    await whileLive(server);
                }

                await publish;
            }
            finally
            {
                await publish.ContinueWith(static _ => { }, TaskScheduler.Default); // never release frames it still sends
            }

            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        finally
        {
            foreach (var frame in frames)
            {
                frame.Payload.Release();
            }
        }
    }

    private static async Task<string> WaitForEndAsync(ServerProcess server, string url)
    {
        var stopwatch = Stopwatch.StartNew();
        var last = "";
        while (stopwatch.Elapsed < TimeSpan.FromSeconds(30))
        {
            last = await server.Http.GetStringAsync(new Uri(url));
            if (last.Contains("#EXT-X-ENDLIST", StringComparison.Ordinal))
            {
                return last;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"{url} did not end:\n{last}\n{server.Log}");
        return last;
    }

    /// <summary>The frames of an FLV file, demuxed by our FlvDemuxer (the caller releases them).</summary>
    private static List<MediaFrame> LoadFrames(string path)
    {
        var frames = new List<MediaFrame>();
        foreach (var tag in FlvClip.Load(path))
        {
            Assert.That(FlvDemuxer.Demux(tag.Type, tag.Timestamp, tag.Body, out var frame, out _), Is.EqualTo(FlvDemuxStatus.Frame));
            frames.Add(frame);
        }

        return frames;
    }

    /// <summary>Publishes the frames, each no earlier than its timestamp after the start (an encoder's pace), then unpublishes.</summary>
    private static async Task PublishInRealTimeAsync(ServerProcess server, string key, List<MediaFrame> frames, CancellationToken cancellationToken)
    {
        var options = new RtmpClientOptions
        {
            ConnectTimeout = TimeSpan.FromSeconds(10),
            HandshakeTimeout = TimeSpan.FromSeconds(10),
            CommandTimeout = TimeSpan.FromSeconds(10),
        };
        await using var client = await RtmpPublishClient.ConnectAsync(RtmpPublishTarget.Parse($"rtmp://127.0.0.1:{server.RtmpPort}/live", key), options, cancellationToken);
        var clock = Stopwatch.StartNew();
        foreach (var frame in frames)
        {
            var due = TimeSpan.FromMilliseconds(frame.Timestamp) - clock.Elapsed;
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due, cancellationToken);
            }

            await client.WriteAsync(frame, cancellationToken);
        }

        await client.UnpublishAsync(cancellationToken);
        Assert.That(client.FramesWritten, Is.EqualTo(frames.Count));
    }
}
