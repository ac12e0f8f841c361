using System.Text;
using MediaServer.Hls.Playlists;
using MediaServer.Hls.Storage;

namespace MediaServer.Tests.Hls;

public class MediaPlaylistWriterTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 12, 0, 0, 5, TimeSpan.Zero);

    private static HlsSegment Segment(long sequence, long durationMs, bool discontinuity = false, DateTimeOffset? pdt = null) =>
        new(sequence, durationMs, discontinuity, pdt ?? T0, new SegmentBuffer());

    private static string Render(in MediaPlaylist playlist) => Encoding.UTF8.GetString(MediaPlaylistWriter.Render(playlist));

    [Test]
    public void Render_LiveWindow_IsExactText()
    {
        var segments = new[] { Segment(7, 2000), Segment(8, 2040), Segment(9, 1960) };

        var text = Render(new MediaPlaylist(2, 7, 0, "ab12", segments, Ended: false));

        Assert.That(text, Is.EqualTo(
            "#EXTM3U\n" +
            "#EXT-X-VERSION:3\n" +
            "#EXT-X-TARGETDURATION:2\n" +
            "#EXT-X-MEDIA-SEQUENCE:7\n" +
            "#EXT-X-PROGRAM-DATE-TIME:2026-01-01T12:00:00.005Z\n" +
            "#EXTINF:2.000,\n" +
            "ab12-7.ts\n" +
            "#EXTINF:2.040,\n" +
            "ab12-8.ts\n" +
            "#EXTINF:1.960,\n" +
            "ab12-9.ts\n"));
    }

    [Test]
    public void Render_DiscontinuityEndedAndQuery_IsExactText()
    {
        var segments = new[]
        {
            Segment(3, 4007, discontinuity: true, pdt: T0),
            Segment(4, 33),
            Segment(5, 12_345, discontinuity: true, pdt: new DateTimeOffset(2026, 1, 1, 13, 0, 0, 999, TimeSpan.FromHours(2))),
        };

        var text = Render(new MediaPlaylist(13, 3, 2, "s", segments, Ended: true, SegmentQuery: "token=a.b-c"));

        Assert.That(text, Is.EqualTo(
            "#EXTM3U\n" +
            "#EXT-X-VERSION:3\n" +
            "#EXT-X-TARGETDURATION:13\n" +
            "#EXT-X-MEDIA-SEQUENCE:3\n" +
            "#EXT-X-DISCONTINUITY-SEQUENCE:2\n" +
            "#EXT-X-DISCONTINUITY\n" +
            "#EXT-X-PROGRAM-DATE-TIME:2026-01-01T12:00:00.005Z\n" +
            "#EXTINF:4.007,\n" +
            "s-3.ts?token=a.b-c\n" +
            "#EXTINF:0.033,\n" +
            "s-4.ts?token=a.b-c\n" +
            "#EXT-X-DISCONTINUITY\n" +
            "#EXT-X-PROGRAM-DATE-TIME:2026-01-01T11:00:00.999Z\n" + // converted to UTC
            "#EXTINF:12.345,\n" +
            "s-5.ts?token=a.b-c\n" +
            "#EXT-X-ENDLIST\n"));
    }

    [Test]
    public void Render_Fmp4_WritesVersion7AndTheMapWhereTheInitSegmentChanges()
    {
        var segments = new[]
        {
            Segment(7, 2000) with { InitVersion = 1 },
            Segment(8, 2000) with { InitVersion = 1 },
            Segment(9, 2000, discontinuity: true) with { InitVersion = 2 },
        };

        var text = Render(new MediaPlaylist(2, 7, 0, "f", segments, Ended: false, SegmentExtension: ".m4s"));

        Assert.That(text, Is.EqualTo(
            "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:7\n" +
            "#EXT-X-PROGRAM-DATE-TIME:2026-01-01T12:00:00.005Z\n" +
            "#EXT-X-MAP:URI=\"f-init-1.mp4\"\n" +
            "#EXTINF:2.000,\nf-7.m4s\n" +
            "#EXTINF:2.000,\nf-8.m4s\n" +
            "#EXT-X-DISCONTINUITY\n" +
            "#EXT-X-PROGRAM-DATE-TIME:2026-01-01T12:00:00.005Z\n" +
            "#EXT-X-MAP:URI=\"f-init-2.mp4\"\n" +
            "#EXTINF:2.000,\nf-9.m4s\n"));
    }

    [Test]
    public void Render_NoSegmentsYetEnded_HasHeaderAndEndList()
    {
        var text = Render(new MediaPlaylist(2, 0, 0, "s", [], Ended: true));

        Assert.That(text, Is.EqualTo("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-ENDLIST\n"));
    }

    [Test]
    public void Render_ZeroTargetDuration_Throws()
    {
        Assert.That(() => MediaPlaylistWriter.Render(new MediaPlaylist(0, 0, 0, "s", [], false)), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }
}
