using MediaServer.Core.Diagnostics;
using MediaServer.Core.Flv;
using MediaServer.Tests.Infrastructure;

namespace MediaServer.Tests.EndToEnd;

/// <summary>
/// Two timestamp patterns stock encoders send, through the real server, read back the way a strict reader does
/// (<see cref="HlsOutput.StrictProblems"/>: per-track DTS strictly increasing, PTS ≥ DTS, joins within a frame,
/// EXTINF ≤ target, no false EXT-X-INDEPENDENT-SEGMENTS), the target constant over every playlist seen, and
/// ffmpeg decoding it at <c>-v error</c> with nothing printed (<c>-vsync vfr</c>: ffmpeg 5.1's H.264 decoder,
/// started cold on a B-frame GOP, emits equal timestamps even from its own files, which the null muxer would
/// report as "non monotonically increasing dts" and pass for a server fault).
/// </summary>
[TestFixture]
[NonParallelizable]
public class EncoderTimestampPatternTests
{
    private ServerProcess _server = null!;

    [OneTimeSetUp]
    public async Task StartServer() => _server = await ServerProcess.StartAsync(["--MediaServer:Hls:PlaylistLength=30"]);

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    /// <summary>
    /// GStreamer's publishers rebase a B-frame stream to its first PTS and clamp the then negative DTS to 0: the
    /// first video tags arrive with the same DTS. Replayed here tag by tag from an ffmpeg file.
    /// </summary>
    [Test]
    public async Task GStreamerClampedFirstDts_IsRepaired_StrictReaderFindsNothing()
    {
        var clip = FlvClip.Load(TestMedia.H264AacFlv);
        var tags = FlvClip.Loop(clip, 3, 0, FlvClip.PeriodMs(clip));
        var lead = tags.First(t => t.IsAvcFrame).CompositionTime; // how far the first PTS is after the first DTS
        Assert.That(lead, Is.GreaterThan(0), "the clip has B-frames");
        var clamped = tags.Select(t => t.IsAvcFrame
            ? t.WithCompositionTime((int)(t.Timestamp + t.CompositionTime - Math.Max(0, t.Timestamp - lead))) with { Timestamp = Math.Max(0, t.Timestamp - lead) }
            : t).ToList();
        var video = clamped.Where(t => t.IsAvcFrame).Take(3).ToList();
        Assert.That(video.Select(t => t.Timestamp), Is.All.EqualTo(0L), "the first three video tags share DTS 0, as rtmp2sink sends them");

        const string key = "gst-pattern";
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
        await using (var publisher = await SyntheticRtmpPublisher.StartAsync(_server.RtmpPort, "live", key, ChunkFraming.Fmt0WithContinuations, cts.Token))
        {
            await publisher.SendAsync(clamped, cts.Token);
            await publisher.UnpublishAsync(cts.Token);
        }

        await CheckStrictlyAsync(key, expectSplits: false);
        Assert.That(_server.Log, Does.Contain(DiagnosticKeys.TimestampsRepaired), "the repair is counted and logged");
    }

    /// <summary>GStreamer itself (rtmp2sink, x264enc with B-frames) where installed (.ci/run installs it).</summary>
    [Test]
    public async Task GStreamerRtmp2Sink_FirstSegment_StrictReaderFindsNothing()
    {
        Tools.RequireGstreamer();
        const string key = "gst-strict";
        var publish = await ProcessRunner.RunAsync("gst-launch-1.0",
        [
            "-q",
            "videotestsrc", "num-buffers=150", "!", "video/x-raw,framerate=30/1,width=320,height=180", "!",
            "x264enc", "key-int-max=30", "bframes=2", "speed-preset=veryfast", "!", "h264parse", "!",
            "flvmux", "name=m", "streamable=true", "!", "rtmp2sink", $"location={_server.RtmpUrl("live", key)}",
            "audiotestsrc", "num-buffers=215", "!", "audioconvert", "!", "voaacenc", "!", "aacparse", "!", "m.",
        ], TimeSpan.FromSeconds(60));
        Assert.That(publish.ExitCode, Is.Zero, publish.ToString());

        await CheckStrictlyAsync(key, expectSplits: false, timelineChecks: false);
    }

    /// <summary>
    /// Keyframes at irregular times (GOPs of 2, 2, 7, 1.2, 5.4, 2, 3 s, as x264 scene-cut or OBS "auto" make them)
    /// with a 2 s segment setting: the target is fixed at 2 from the first GOP, and the 7 s and 5.4 s GOPs must be
    /// split into segments within it. hls.js plays across the splits.
    /// </summary>
    [Test]
    public async Task VariableKeyframeInterval_LongGopsAreSplitWithinTheTarget_AndPlay()
    {
        const string key = "variable-gop";
        var publish = await ProcessRunner.RunAsync("ffmpeg",
            ["-hide_banner", "-nostdin", "-loglevel", "error", "-i", TestMedia.VariableGopFlv, "-c", "copy", "-f", "flv", _server.RtmpUrl("live", key)],
            TimeSpan.FromSeconds(60));
        Assert.That(publish.ExitCode, Is.Zero, publish.ToString());

        var playlist = await CheckStrictlyAsync(key, expectSplits: true);
        Assert.That(playlist, Does.Contain("#EXT-X-TARGETDURATION:2\n"), playlist);
        var durations = playlist.Split('\n').Where(l => l.StartsWith("#EXTINF:", StringComparison.Ordinal)).Select(l => double.Parse(l[8..^1], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.That(durations.Sum(), Is.EqualTo(22.6).Within(0.2), "all the media is listed");
        Assert.That(durations, Has.Count.GreaterThanOrEqualTo(11), "the 7 s and 5.4 s GOPs became several segments each: " + playlist);

        var playback = await BrowserPlayer.PlayAsync("hls", _server.HlsUrl(key), null, seconds: 16);
        Assert.That(playback.Ok, Is.True, "hls.js played 16 s from the start, across the splits at 6.5, 8.9, 13.5 and 15.9 s: " + playback.Raw);
    }

    private async Task<string> CheckStrictlyAsync(string key, bool expectSplits, bool timelineChecks = true)
    {
        var (playlist, targets) = await HlsOutput.WatchUntilEndAsync(_server, key, TimeSpan.FromSeconds(60));
        var segments = await HlsOutput.FetchSegmentsAsync(_server.Http, _server.MediaPlaylistUrl(key), playlist);
        using var multivariantResponse = await _server.Http.GetAsync(new Uri(_server.HlsUrl(key)));
        var multivariant = await multivariantResponse.Content.ReadAsStringAsync();
        var problems = HlsOutput.StrictProblems(playlist, segments, multivariant);
        if (!timelineChecks)
        {
            // GStreamer's live test sources stamp frames with capture jitter: keep the rules a reader enforces on any input.
            problems.RemoveAll(p => p.Contains(" gap of ", StringComparison.Ordinal) || p.Contains(" overlap of ", StringComparison.Ordinal) || p.Contains("video is cut at", StringComparison.Ordinal));
        }

        var splitStarts = segments.Count(s => s.Ts.Pmts.Count > 0 && s.Ts.PesPackets.FirstOrDefault(p => p.StreamId is >= 0xE0 and <= 0xEF) is { RandomAccess: false });
        Assert.Multiple(() =>
        {
            Assert.That(problems, Is.Empty, playlist);
            Assert.That(targets, Has.Count.EqualTo(1), "EXT-X-TARGETDURATION never changes: " + string.Join(", ", targets));
            Assert.That(splitStarts > 0, Is.EqualTo(expectSplits), $"{splitStarts} segment(s) start between keyframes");
        });

        var decode = await Ffmpeg.DecodeAsync(_server.MediaPlaylistUrl(key), TimeSpan.FromSeconds(120), "-vsync", "vfr");
        Assert.That(decode.ExitCode, Is.Zero, decode.ToString());
        Assert.That(decode.StandardError.Trim(), Is.Empty, "ffmpeg reported errors decoding the playlist:\n" + decode.StandardError);
        return playlist;
    }
}
