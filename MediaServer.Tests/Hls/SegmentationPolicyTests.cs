using MediaServer.Hls.Segmenting;

namespace MediaServer.Tests.Hls;

public class SegmentationPolicyTests
{
    private static SegmentationPolicy Policy(double seconds = 2, long maxBytes = 1_000_000) =>
        new(TimeSpan.FromSeconds(seconds), maxBytes);

    [TestCase(true, true, true, 1999, ExpectedResult = SegmentCut.None, TestName = "Decide_VideoKeyframeBeforeDuration_None")]
    [TestCase(true, true, true, 2000, ExpectedResult = SegmentCut.Duration, TestName = "Decide_VideoKeyframeAtDuration_Duration")]
    [TestCase(true, true, false, 5000, ExpectedResult = SegmentCut.None, TestName = "Decide_VideoNonKeyframeLongAfter_None")]
    [TestCase(true, false, false, 5000, ExpectedResult = SegmentCut.None, TestName = "Decide_AudioInVideoLedStream_None")]
    [TestCase(false, false, false, 1999, ExpectedResult = SegmentCut.None, TestName = "Decide_AudioOnlyBeforeDuration_None")]
    [TestCase(false, false, false, 2000, ExpectedResult = SegmentCut.Duration, TestName = "Decide_AudioOnlyAtDuration_Duration")]
    public SegmentCut Decide_Cases(bool videoLed, bool isVideo, bool isKeyframe, long elapsedMs) =>
        Policy().Decide(videoLed, isVideo, isKeyframe, elapsedMs, segmentBytes: 10);

    [Test]
    public void Decide_SizeCapReached_CutsAtAnyFrame()
    {
        Assert.That(Policy(maxBytes: 1000).Decide(true, true, false, 10, 1000), Is.EqualTo(SegmentCut.Size));
        Assert.That(Policy(maxBytes: 1000).Decide(true, false, false, 10, 999), Is.EqualTo(SegmentCut.None));
    }

    // target = max(ceil(SegmentDuration), ceil((first + 250 ms − 500 ms) / 1 s))
    [TestCase(2.0, 2000, ExpectedResult = 2, TestName = "FixTargetDuration_GopEqualsSegment_IsCeilOfSetting")]
    [TestCase(2.0, 2249, ExpectedResult = 2, TestName = "FixTargetDuration_FirstWithinJitterMargin_StaysAtSetting")]
    [TestCase(2.0, 2250, ExpectedResult = 2, TestName = "FixTargetDuration_FirstAtJitterMargin_StaysAtSetting")]
    [TestCase(2.0, 2251, ExpectedResult = 3, TestName = "FixTargetDuration_FirstBeyondJitterMargin_GrowsByOne")]
    [TestCase(2.0, 4000, ExpectedResult = 4, TestName = "FixTargetDuration_FourSecondGop_IsFour")]
    [TestCase(1.5, 1500, ExpectedResult = 2, TestName = "FixTargetDuration_FractionalSetting_RoundsUp")]
    [TestCase(6.0, 300, ExpectedResult = 6, TestName = "FixTargetDuration_ShortFirstSegment_NeverBelowSetting")]
    public int FixTargetDuration_Cases(double seconds, long firstMs) => Policy(seconds).FixTargetDuration(firstMs);

    [Test]
    public void FixTargetDuration_CalledAgain_NeverChanges()
    {
        var policy = Policy();
        policy.FixTargetDuration(2000);

        Assert.That(policy.FixTargetDuration(9000), Is.EqualTo(2));
        Assert.That(policy.TargetDuration, Is.EqualTo(2));
    }

    [Test]
    public void ExceedsTarget_RoundsToNearestSecond()
    {
        var policy = Policy();
        Assert.That(policy.ExceedsTarget(2499), Is.False, "before the target is fixed nothing exceeds it");
        policy.FixTargetDuration(2000);

        Assert.That(policy.ExceedsTarget(2499), Is.False);
        Assert.That(policy.ExceedsTarget(2500), Is.True);
    }
}
