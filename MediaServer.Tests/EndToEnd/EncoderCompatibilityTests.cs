using System.Diagnostics;
using MediaServer.Tests.Infrastructure;

namespace MediaServer.Tests.EndToEnd;

/// <summary>
/// RTMP implementations other than ffmpeg's publish to the real server: GStreamer's own RTMP client
/// (<c>rtmp2sink</c>) and librtmp (<c>rtmpsink</c>, the library OBS's RTMP output descends from). Each pushes
/// six seconds of H.264 (B-frames) + AAC as fast as the server takes it (GStreamer's live test sources stamp
/// frames with capture jitter that makes even a file of them decode with warnings); the HLS must end and
/// decode without an error. The same two clients also play a live stream back over RTMP.
/// </summary>
[TestFixture]
[NonParallelizable]
public class EncoderCompatibilityTests
{
    private ServerProcess _server = null!;

    [OneTimeSetUp]
    public async Task StartServer() => _server = await ServerProcess.StartAsync();

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    [TestCase("rtmp2sink", TestName = "GStreamerRtmp2Sink_Publishes_HlsDecodes")]
    [TestCase("rtmpsink", TestName = "LibrtmpRtmpSink_Publishes_HlsDecodes")]
    public async Task Publish(string sink)
    {
        Tools.RequireGstreamer();
        var key = "gst-" + sink;
        var location = _server.RtmpUrl("live", key) + (sink == "rtmpsink" ? " live=1" : "");
        var publish = await ProcessRunner.RunAsync("gst-launch-1.0",
        [
            "-q",
            "videotestsrc", "num-buffers=180", "!", "video/x-raw,framerate=30/1,width=640,height=360", "!",
            "x264enc", "key-int-max=30", "bframes=2", "speed-preset=veryfast", "!", "h264parse", "!",
            "flvmux", "name=m", "streamable=true", "!", sink, $"location={location}",
            "audiotestsrc", "num-buffers=250", "!", "audioconvert", "!", "voaacenc", "!", "aacparse", "!", "m.",
        ], TimeSpan.FromSeconds(60));
        Assert.That(publish.ExitCode, Is.Zero, publish + "\n" + _server.Log);

        var playlist = await _server.WaitForPlaylistEndAsync(key);
        Assert.That(playlist.Split("#EXTINF").Length - 1, Is.GreaterThanOrEqualTo(2), playlist);

        var decode = await Ffmpeg.DecodeAsync(_server.HlsUrl(key), TimeSpan.FromSeconds(60));
        Assert.That(decode.ExitCode, Is.Zero, decode.ToString());
        Assert.That(decode.StandardError.Trim(), Is.Empty, "ffmpeg reported decode errors:\n" + decode.StandardError);

        var probe = await Ffmpeg.ProbeAsync(_server.HlsUrl(key), "-show_entries", "stream=codec_name", "-of", "compact");
        Assert.That(probe.StandardOutput, Does.Contain("codec_name=h264").And.Contain("codec_name=aac"), probe.ToString());
    }

    [TestCase("rtmpsrc", TestName = "LibrtmpPlayer_ReadsTheLiveStreamOverRtmp")]
    [TestCase("rtmp2src", TestName = "GStreamerRtmp2Src_ReadsTheLiveStreamOverRtmp")]
    public async Task Play(string source)
    {
        Tools.RequireGstreamer();
        var key = "gst-play-" + source;
        using var publisher = Ffmpeg.StartPublishing(_server.RtmpUrl("live", key), seconds: 30, out _);
        try
        {
            await _server.WaitForMediaPlaylistAsync(key, static p => p.Contains("#EXTINF", StringComparison.Ordinal));

            // 150 FLV tags through GStreamer's FLV demuxer and H.264/AAC parsers; EOS after them is a clean exit.
            var play = await ProcessRunner.RunAsync("gst-launch-1.0",
            [
                "-v",
                source, $"location={_server.RtmpUrl("live", key)}", "num-buffers=150", "!", "flvdemux", "name=d",
                "d.video", "!", "queue", "!", "h264parse", "!", "video/x-h264,stream-format=byte-stream", "!", "fakesink", "name=vsink", "silent=false",
                "d.audio", "!", "queue", "!", "aacparse", "!", "fakesink", "name=asink", "silent=false",
            ], TimeSpan.FromSeconds(30));
            Assert.That(play.ExitCode, Is.Zero, play.ToString());
            Assert.That(play.StandardError, Does.Not.Contain("ERROR"), play.ToString());

            // Both sinks received buffers (gst-launch -v prints each sink's last-message = chain ... per buffer).
            Assert.That(play.StandardOutput, Does.Contain("(vsink:sink) (").And.Contain("(asink:sink) ("), "video and audio buffers reached their sinks:\n" + play.StandardOutput[..Math.Min(2000, play.StandardOutput.Length)]);
        }
        finally
        {
            ProcessRunner.KillQuietly(publisher);
        }
    }

}
