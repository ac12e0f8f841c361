using MediaServer.Hls.Segmenting;
using MediaServer.Hls.Storage;

namespace MediaServer.Tests.Hls;

public class SegmentationPolicyTests
{
    private static SegmentationPolicy Policy(double seconds = 2, long maxBytes = 1_000_000) =>
        new(TimeSpan.FromSeconds(seconds), maxBytes);

    private static SegmentCut Decide(
        SegmentationPolicy policy, bool videoLed, bool isVideo, bool isKeyframe, long elapsedMs, long segmentBytes, long frameMs,
        bool segmentIndependent = true, bool presentsAfter = false) =>
        policy.Decide(new CutCandidate(videoLed, isVideo, isKeyframe, presentsAfter, frameMs), elapsedMs, segmentBytes, segmentIndependent);

    [TestCase(true, true, true, 1999, ExpectedResult = SegmentCut.None, TestName = "Decide_VideoKeyframeBeforeDuration_None")]
    [TestCase(true, true, true, 2000, ExpectedResult = SegmentCut.Duration, TestName = "Decide_VideoKeyframeAtDuration_Duration")]
    [TestCase(true, true, false, 5000, ExpectedResult = SegmentCut.None, TestName = "Decide_VideoNonKeyframeLongAfter_None")]
    [TestCase(true, false, false, 5000, ExpectedResult = SegmentCut.None, TestName = "Decide_AudioInVideoLedStream_None")]
    [TestCase(false, false, false, 1999, ExpectedResult = SegmentCut.None, TestName = "Decide_AudioOnlyBeforeDuration_None")]
    [TestCase(false, false, false, 2000, ExpectedResult = SegmentCut.Duration, TestName = "Decide_AudioOnlyAtDuration_Duration")]
    public SegmentCut Decide_Cases(bool videoLed, bool isVideo, bool isKeyframe, long elapsedMs) =>
        Decide(Policy(), videoLed, isVideo, isKeyframe, elapsedMs, segmentBytes: 10, frameMs: 33);

    [Test]
    public void Decide_SizeCapReached_CutsAtAnyFrame()
    {
        Assert.That(Decide(Policy(maxBytes: 1000), true, true, false, 10, 1000, 33), Is.EqualTo(SegmentCut.Size));
        Assert.That(Decide(Policy(maxBytes: 1000), true, false, false, 10, 999, 33), Is.EqualTo(SegmentCut.None));
    }

    [Test]
    public void Decide_GopLongerThanTheFixedTarget_SplitsBeforeTheFrameThatWouldRoundAboveIt()
    {
        var policy = Policy();
        policy.FixTargetDuration(2000);

        // 2 s target: EXTINF must stay below 2.5 s. The frame at 2434 ms ends at 2467 < 2500: kept; the next would not be.
        Assert.That(Decide(policy, true, true, false, 2434, 10, 33), Is.EqualTo(SegmentCut.None));
        Assert.That(Decide(policy, true, true, false, 2467, 10, 33), Is.EqualTo(SegmentCut.Split));
        Assert.That(PlaylistRounding(2467), Is.LessThanOrEqualTo(policy.TargetDuration));
        Assert.That(Decide(policy, true, false, false, 2480, 10, 23), Is.EqualTo(SegmentCut.None), "only the lead track cuts");
        Assert.That(Decide(policy, true, true, true, 2467, 10, 33), Is.EqualTo(SegmentCut.Duration), "a keyframe is a normal cut");
    }

    [Test]
    public void Decide_FirstGopLongerThanTheMaximumTarget_IsSplitAndFixesTheMaximum()
    {
        var policy = Policy();
        Assert.That(policy.MaximumTargetDuration, Is.EqualTo(6));

        Assert.That(Decide(policy, true, true, false, 6400, 10, 33), Is.EqualTo(SegmentCut.None));
        Assert.That(Decide(policy, true, true, false, 6467, 10, 33), Is.EqualTo(SegmentCut.Split));
        Assert.That(policy.FixTargetDuration(6467), Is.EqualTo(6), "the split segment rounds to the maximum, not above it");
    }

    [Test]
    public void Decide_SegmentAfterASplit_EndsAtTheNextKeyframeHoweverShort()
    {
        var policy = Policy();

        Assert.That(Decide(policy, true, true, true, 40, 10, 40, segmentIndependent: false), Is.EqualTo(SegmentCut.Duration));
        Assert.That(Decide(policy, true, true, true, 40, 10, 40, segmentIndependent: true), Is.EqualTo(SegmentCut.None));
        Assert.That(Decide(policy, true, true, false, 40, 10, 40, segmentIndependent: false), Is.EqualTo(SegmentCut.None));
    }

    [Test]
    public void Decide_NearTheLimit_SplitsEarlyOnlyBeforeAFrameThatPresentsAfterTheSegment()
    {
        var policy = Policy();
        policy.FixTargetDuration(2000);

        // Within four frames of the 2.5 s limit: a P frame (PTS after the segment) may split, a B frame may not.
        Assert.That(Decide(policy, true, true, false, 2368, 10, 33, presentsAfter: true), Is.EqualTo(SegmentCut.Split));
        Assert.That(Decide(policy, true, true, false, 2368, 10, 33, presentsAfter: false), Is.EqualTo(SegmentCut.None));
        Assert.That(Decide(policy, true, true, false, 2300, 10, 33, presentsAfter: true), Is.EqualTo(SegmentCut.None), "not yet that near");
    }

    private static long PlaylistRounding(long ms) => SegmentationPolicy.RoundToSeconds(ms);

    // target = max(ceil(SegmentDuration), ceil((first + 250 ms − 500 ms) / 1 s))
    [TestCase(2.0, 2000, ExpectedResult = 2, TestName = "FixTargetDuration_GopEqualsSegment_IsCeilOfSetting")]
    [TestCase(2.0, 2249, ExpectedResult = 2, TestName = "FixTargetDuration_FirstWithinJitterMargin_StaysAtSetting")]
    [TestCase(2.0, 2250, ExpectedResult = 2, TestName = "FixTargetDuration_FirstAtJitterMargin_StaysAtSetting")]
    [TestCase(2.0, 2251, ExpectedResult = 3, TestName = "FixTargetDuration_FirstBeyondJitterMargin_GrowsByOne")]
    [TestCase(2.0, 4000, ExpectedResult = 4, TestName = "FixTargetDuration_FourSecondGop_IsFour")]
    [TestCase(1.5, 1500, ExpectedResult = 2, TestName = "FixTargetDuration_FractionalSetting_RoundsUp")]
    [TestCase(6.0, 300, ExpectedResult = 6, TestName = "FixTargetDuration_ShortFirstSegment_NeverBelowSetting")]
    [TestCase(2.0, 9000, ExpectedResult = 6, TestName = "FixTargetDuration_LongFirstSegment_NeverAboveTheMaximum")]
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

    [TestCase(0, 440, 40, ExpectedResult = false, TestName = "EndsPart_FrameEndsAtTheTarget_No")]
    [TestCase(0, 480, 40, ExpectedResult = true, TestName = "EndsPart_FrameWouldPassTheTarget_Yes")]
    [TestCase(0, 0, 800, ExpectedResult = false, TestName = "EndsPart_FirstFrameOfThePart_Never")]
    [TestCase(1000, 1470, 40, ExpectedResult = true, TestName = "EndsPart_RelativeToThePartStart")]
    public bool EndsPart_Cases(long partStart, long dts, long frameMs) =>
        new SegmentationPolicy(TimeSpan.FromSeconds(2), 1_000_000, TimeSpan.FromMilliseconds(500)).EndsPart(partStart, dts, frameMs);

    [Test]
    public void EndsPart_WithoutPartTarget_Never() =>
        Assert.That(Policy().EndsPart(0, 10_000, 40), Is.False);

    [Test]
    public void Add_BeforeTheTargetIsFixed_HoldsBackUntilACutPoint_ThenReleasesInOrder()
    {
        var policy = Policy();
        var a = new SegmentBuffer();
        var b = new SegmentBuffer();
        policy.Add(Closed(1200, a), atCutPoint: false);
        Assert.That(policy.TryTakeReady(out _), Is.False);
        Assert.That(policy.Pending, Is.EqualTo(1));

        policy.Add(Closed(3400, b), atCutPoint: true);

        Assert.That(policy.TargetDuration, Is.EqualTo(4), "ceil(3.4 + 0.25 - 0.5) from the longest");
        Assert.That(policy.TryTakeReady(out var first) && first.Buffer == a, Is.True);
        Assert.That(policy.TryTakeReady(out var second) && second.Buffer == b, Is.True);
        Assert.That(policy.Pending, Is.Zero);
        a.Release();
        b.Release();
    }

    [Test]
    public void Add_ThreeBreaksInARow_ReleasedWithoutACutPoint()
    {
        var policy = Policy();
        var buffers = Enumerable.Range(0, SegmentationPolicy.MaxHeldBackSegments).Select(_ => new SegmentBuffer()).ToArray();
        foreach (var buffer in buffers)
        {
            policy.Add(Closed(500, buffer), atCutPoint: false);
        }

        Assert.That(policy.TargetDuration, Is.EqualTo(2));
        Assert.That(policy.Pending, Is.EqualTo(buffers.Length));
        policy.Abandon();
        Assert.That(policy.Pending, Is.Zero);
        Assert.That(buffers.Select(b => b.TryAcquire()), Is.All.False, "Abandon releases what was not handed out");
    }

    private static ClosedSegment Closed(long durationMs, SegmentBuffer buffer) => new(durationMs, false, HlsTestKit.Epoch, true, buffer, []);
}
