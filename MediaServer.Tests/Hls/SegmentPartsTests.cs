using MediaServer.Core.Media;
using static MediaServer.Tests.Hls.HlsTestKit;

namespace MediaServer.Tests.Hls;

/// <summary>Parts stay with their segment, held back or not (a review of issue 18 found held-back segments losing theirs).</summary>
public class SegmentPartsTests
{
    [Test]
    public void Parts_OfSegmentsHeldBackBeforeTheTargetIsFixed_AreKept()
    {
        using var h = new SegmenterHarness(partDuration: TimeSpan.FromMilliseconds(500));
        h.Feed(VideoConfig(version: 1));
        h.FeedVideo(0, 25, gopFrames: 50);          // 1 s, no cut point yet
        h.Feed(VideoConfig(version: 2, dts: 1000));  // new parameters: break, segment A held back
        h.FeedVideo(1000, 51, gopFrames: 50);        // B closes at a cut point: A and B released
        var window = h.Stream.GetWindow();
        Assert.That(window, Has.Length.GreaterThanOrEqualTo(2));
        Assert.That(window.Select(s => s.Parts.Count), Is.All.GreaterThan(0), "every segment of a stream with parts has its parts");
        Assert.That(window.Select(s => s.Parts.Sum(p => p.Length)), Is.EqualTo(window.Select(s => s.Buffer.Length)), "the parts tile their segment");
    }

    [Test]
    public void Parts_SteadyState_AreKept()
    {
        using var h = new SegmenterHarness(partDuration: TimeSpan.FromMilliseconds(500));
        h.Feed(VideoConfig(version: 1));
        h.FeedVideo(0, 151, gopFrames: 50);
        var window = h.Stream.GetWindow();
        Assert.That(window.Select(s => s.Parts.Count), Is.All.GreaterThan(0));
    }
}
