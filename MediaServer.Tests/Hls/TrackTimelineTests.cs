using MediaServer.Hls.Segmenting;

namespace MediaServer.Tests.Hls;

public class TrackTimelineTests
{
    [TestCase(1000, TimelineJump.None, TestName = "Check_SameDts_Continuous")]
    [TestCase(901, TimelineJump.None, TestName = "Check_JitterBack_Continuous")]
    [TestCase(899, TimelineJump.Backward, TestName = "Check_MoreThan100msBack_Backward")]
    [TestCase(11_000, TimelineJump.None, TestName = "Check_10sForward_Continuous")]
    [TestCase(11_001, TimelineJump.Forward, TestName = "Check_MoreThan10sForward_Forward")]
    public void Check(long dts, TimelineJump expected)
    {
        var timeline = new TrackTimeline(TrackTimeline.DefaultVideoFrameMs);
        timeline.Advance(1000);
        Assert.That(timeline.Check(dts), Is.EqualTo(expected));
    }

    [Test]
    public void Check_FirstDtsAndAfterReset_Continuous()
    {
        var timeline = new TrackTimeline(TrackTimeline.DefaultAudioFrameMs);
        Assert.That(timeline.Check(-50_000), Is.EqualTo(TimelineJump.None));
        timeline.Advance(0);
        timeline.Reset();
        Assert.That(timeline.LastDts, Is.Null);
        Assert.That(timeline.Check(90_000), Is.EqualTo(TimelineJump.None));
    }

    [Test]
    public void FrameMs_LastStepWithinAFrame_KeptAcrossGapsAndResets()
    {
        var timeline = new TrackTimeline(33);
        Assert.That(timeline.FrameMs, Is.EqualTo(33));
        timeline.Advance(0);
        timeline.Advance(40);
        Assert.That(timeline.FrameMs, Is.EqualTo(40));
        timeline.Advance(40);    // no step
        timeline.Advance(5000);  // a gap, not a frame
        Assert.That(timeline.FrameMs, Is.EqualTo(40));
        timeline.Reset();
        timeline.Advance(10);
        Assert.That(timeline.FrameMs, Is.EqualTo(40));
    }
}
