using System.Text;
using MediaServer.Core.Buffers;
using MediaServer.Core.Media;
using MediaServer.Hls.Segmenting;
using MediaServer.Hls.Storage;
using static MediaServer.Tests.Hls.HlsTestKit;

namespace MediaServer.Tests.Hls;

public class TrackConfigurationsTests
{
    private static string Codecs(HlsStream stream) => Encoding.UTF8.GetString(stream.RenderMultivariantPlaylist(null) ?? []);

    private static HlsStream NewStream()
    {
        var stream = new HlsStream("cam", Options(), TimeProvider.System, sessionId: "s1");
        stream.AddSegment(2, 2000, false, Epoch, new SegmentBuffer()); // the multivariant playlist exists from the first segment
        return stream;
    }

    [Test]
    public void Update_FirstThenRepeatThenDifferent_OnlyTheDifferentOneReplaces()
    {
        var configurations = new TrackConfigurations(NewStream());
        using var first = new FrameScope(VideoConfig(version: 1));
        using var repeat = new FrameScope(VideoConfig(version: 1));
        using var changed = new FrameScope(VideoConfig(version: 2));

        Assert.That(configurations.Update(first.Frame), Is.False, "the first sequence header sets, does not replace");
        Assert.That(configurations.Update(repeat.Frame), Is.False, "the same parameters again change nothing");
        Assert.That(configurations.Update(changed.Frame), Is.True);
    }

    [Test]
    public void Update_DescribesTheTrackToThePlaylist()
    {
        var stream = NewStream();
        var configurations = new TrackConfigurations(stream);
        // AVCDecoderConfigurationRecord: High profile, level 3.1, no parameter sets (the CODECS string needs none).
        byte[] avcc = [1, 0x64, 0x00, 0x1F, 0xFF, 0xE0, 0x00];
        using var video = new FrameScope(new MediaFrame(MediaKind.Video, MediaCodec.H264, FrameFlags.Config | FrameFlags.Keyframe, 0, 0, MediaBuffer.CopyOf(avcc)));
        using var audio = new FrameScope(AudioConfig());

        configurations.Update(video.Frame);
        configurations.Update(audio.Frame);

        Assert.That(Codecs(stream), Does.Contain("avc1.64001f").And.Contain("mp4a.40.2"));
    }

    [Test]
    public void See_Mp3Frame_DescribesTheAudioOnce()
    {
        var stream = NewStream();
        var configurations = new TrackConfigurations(stream);
        using var mp3 = new FrameScope(Audio(0, codec: MediaCodec.Mp3));

        configurations.See(mp3.Frame);

        Assert.That(Codecs(stream), Does.Contain("mp4a.40.34"));
    }

    private readonly struct FrameScope(MediaFrame frame) : IDisposable
    {
        public MediaFrame Frame { get; } = frame;

        public void Dispose() => Frame.Payload.Release();
    }
}
