using System.Text;
using MediaServer.Core.Codecs;
using MediaServer.Hls.Playlists;
using MediaServer.Hls.Storage;
using static MediaServer.Tests.Hls.HlsTestKit;

namespace MediaServer.Tests.Hls;

public class MultivariantPlaylistTests
{
    [Test]
    public void Render_FullVariant_WritesEveryAttribute()
    {
        var text = Encoding.UTF8.GetString(MultivariantPlaylistWriter.Render(
            new VariantStream(3_421_000, 3_180_000, "avc1.64001f,mp4a.40.2", 1280, 720, "stream.m3u8?token=a.b.c")));

        Assert.That(text, Is.EqualTo(
            "#EXTM3U\n#EXT-X-VERSION:3\n" +
            "#EXT-X-STREAM-INF:BANDWIDTH=3421000,AVERAGE-BANDWIDTH=3180000,CODECS=\"avc1.64001f,mp4a.40.2\",RESOLUTION=1280x720\n" +
            "stream.m3u8?token=a.b.c\n"));
    }

    [Test]
    public void Render_AudioOnlyWithUnknownCodecs_LeavesOutWhatIsUnknown()
    {
        var text = Encoding.UTF8.GetString(MultivariantPlaylistWriter.Render(new VariantStream(96_000, 0, null, 0, 0, "stream.m3u8")));

        Assert.That(text, Does.EndWith("#EXT-X-STREAM-INF:BANDWIDTH=96000\nstream.m3u8\n"));
    }

    [Test]
    public void Render_ZeroBandwidth_Throws() =>
        Assert.That(() => MultivariantPlaylistWriter.Render(new VariantStream(0, 0, null, 0, 0, "stream.m3u8")), Throws.InstanceOf<ArgumentOutOfRangeException>());

    [Test]
    public void HlsStream_BandwidthIsThePeakSegmentRate_AverageIsTheWindowMean()
    {
        using var stream = new HlsStream("cam", Options(), sessionId: "s");
        Assert.That(stream.MultivariantPlaylist, Is.Null, "nothing to announce before the first segment");
        stream.DescribeTrack(video: true, new CodecDescription("avc1.640028", 1920, 1080));
        stream.DescribeTrack(video: false, new CodecDescription("mp4a.40.2"));

        stream.AddSegment(2, 2000, false, Epoch, Buffer(250_000)); // 1,000,000 bit/s
        stream.AddSegment(2, 1000, false, Epoch, Buffer(250_000)); // 2,000,000 bit/s

        var text = Encoding.UTF8.GetString(stream.MultivariantPlaylist!);
        Assert.That(text, Does.Contain("BANDWIDTH=2000000,AVERAGE-BANDWIDTH=1333333,CODECS=\"avc1.640028,mp4a.40.2\",RESOLUTION=1920x1080\nstream.m3u8\n"));
    }

    private static SegmentBuffer Buffer(int bytes)
    {
        var buffer = new SegmentBuffer();
        buffer.GetSpan(bytes)[..bytes].Clear();
        buffer.Advance(bytes);
        return buffer;
    }
}
