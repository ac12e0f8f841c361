using MediaServer.Core.Diagnostics;
using MediaServer.Core.Media;
using MediaServer.Hls;
using MediaServer.Hls.Segmenting;
using static MediaServer.Tests.Hls.HlsTestKit;

namespace MediaServer.Tests.Hls;

public class HlsSegmenterTests
{
    private const string Header = "#EXTM3U\n#EXT-X-VERSION:3\n";

    [Test]
    public void Process_TwoSecondGops_CutsAtKeyframesAndEndsWithEstimatedLastDuration()
    {
        using var h = new SegmenterHarness();
        h.Feed(VideoConfig());
        h.Feed(AudioConfig());
        h.FeedVideo(0, 151, gopFrames: 50); // 0..6000 ms, keyframes at 0, 2000, 4000, 6000

        Assert.That(h.Durations(), Is.EqualTo(new long[] { 2000, 2000, 2000 }), "the segment opened at 6000 is not complete");
        h.Segmenter.Complete();

        Assert.That(h.Playlist, Is.EqualTo(
            Header +
            "#EXT-X-TARGETDURATION:2\n" +
            "#EXT-X-MEDIA-SEQUENCE:0\n" +
            "#EXT-X-PROGRAM-DATE-TIME:2026-01-01T12:00:00.000Z\n" +
            "#EXTINF:2.000,\n" +
            "s1-0.ts\n" +
            "#EXTINF:2.000,\n" +
            "s1-1.ts\n" +
            "#EXTINF:2.000,\n" +
            "s1-2.ts\n" +
            "#EXTINF:0.040,\n" + // last frame DTS 6000 + one frame (40 ms) − 6000
            "s1-3.ts\n" +
            "#EXT-X-ENDLIST\n"));
        var segments = h.Describe();
        Assert.That(segments[0], Does.StartWith("T V0k V40 V80 ").And.EndWith(" V1960 F"));
        Assert.That(segments[1], Does.StartWith("T V2000k V2040 ").And.EndWith(" V3960 F"));
        Assert.That(segments[2], Does.StartWith("T V4000k V4040 "));
        Assert.That(segments[3], Is.EqualTo("T V6000k F"));
    }

    [Test]
    public void Abandon_MidSegmentWithFramesQueued_ReturnsEveryBufferAndPublishesNothingMore()
    {
        using var h = new SegmenterHarness();
        h.Feed(VideoConfig());
        h.Feed(AudioConfig());
        h.FeedVideo(0, 60, gopFrames: 50); // segment 0 published, segment 1 (from 2000) being built
        var queued = Audio(5000); // ahead of the video: waits in the interleaver
        h.Segmenter.Process(queued);
        var published = h.Stream.GetWindow().Select(s => s.Buffer).ToArray();
        var open = h.Segmenter.OpenSegment!;
        Assert.That(queued.Payload.RefCount, Is.EqualTo(2), "the caller's and the interleaver's");
        Assert.That(open.RefCount, Is.EqualTo(1));

        h.Segmenter.Abandon();
        Assert.That(open.RefCount, Is.Zero, "the segment being built went back to the pool");
        Assert.That(h.Segmenter.OpenSegment, Is.Null);
        h.Feed(Video(10_000, key: true));

        Assert.That(queued.Payload.RefCount, Is.EqualTo(1), "the interleaver let go of the queued frame");
        queued.Payload.Release();
        Assert.That(h.Stream.GetWindow().Select(s => s.Buffer), Is.EqualTo(published), "nothing published after it");
        Assert.That(published.Select(b => b.RefCount), Is.All.EqualTo(1), "published segments stay with the stream");
        Assert.That(h.Describe(), Has.Length.EqualTo(published.Length));
    }

    [Test]
    public void Process_FramesBeforeFirstKeyframe_AreDropped()
    {
        using var h = new SegmenterHarness();
        h.Feed(VideoConfig());
        h.Feed(AudioConfig());
        h.Feed(Audio(0));
        h.Feed(Video(0));
        h.Feed(Video(40, key: true));
        h.Feed(Audio(45));
        h.Segmenter.Complete();

        Assert.That(h.Describe(), Is.EqualTo(new[] { "T V40k A45 F" }));
        Assert.That(h.Segmenter.DroppedFrames, Is.EqualTo(2));
    }

    [Test]
    public void Process_InterleavedAudio_GoesWithTheSegmentItArrivesIn()
    {
        using var h = new SegmenterHarness();
        h.Feed(Video(0, key: true));
        h.Feed(Audio(10));
        h.Feed(Video(1000));
        h.Feed(Audio(1990));
        h.Feed(Video(2000, key: true));
        h.Feed(Audio(2010));
        h.Segmenter.Complete();

        Assert.That(h.Describe(), Is.EqualTo(new[] { "T V0k A10 V1000 A1990 F", "T V2000k A2010 F" }));
        Assert.That(h.Durations(), Is.EqualTo(new long[] { 2000, 1000 }), "the last: 2000 + the last video step (1000 ms)");
    }

    [Test]
    public void Process_WindowFull_SlidesAndKeepsRemovedSegmentsForRetention()
    {
        using var h = new SegmenterHarness(Options(playlistLength: 3));
        h.FeedVideo(0, 451, gopFrames: 50); // keyframes every 2 s up to 18000: 9 complete segments

        Assert.That(h.Stream.MediaSequence, Is.EqualTo(6));
        Assert.That(h.Stream.GetWindow().Select(s => s.SequenceNumber), Is.EqualTo(new long[] { 6, 7, 8 }));
        Assert.That(h.Stream.RetainedRemovedCount, Is.EqualTo(6));
        Assert.That(h.Stream.TryAcquireSegment(0, out var removed), Is.True, "a removed segment stays downloadable");
        removed!.Buffer.Release();

        h.Time.Advance(h.Options.EffectiveRetainRemovedSegmentsFor); // 2 s × (3 + 1)
        h.Stream.ExpireRemovedSegments();

        Assert.That(h.Stream.RetainedRemovedCount, Is.Zero);
        Assert.That(h.Stream.TryAcquireSegment(0, out _), Is.False);
        Assert.That(removed.Buffer.RefCount, Is.Zero, "returned to the pool");
    }

    [Test]
    public void Process_SegmentsShorterThanTarget_WindowKeepsThreeTargetDurations()
    {
        // 1.5 s segments → target 2 → the window must hold ≥ 6 s: 4 segments, not PlaylistLength = 3.
        using var h = new SegmenterHarness(Options(segmentSeconds: 1.5, playlistLength: 3));
        h.FeedVideo(0, 301, gopFrames: 10, frameMs: 50); // 0.5 s GOPs up to 15 s: 1.5 s segments
        var window = h.Durations();

        Assert.That(h.Stream.TargetDuration, Is.EqualTo(2));
        Assert.That(window.Sum(), Is.GreaterThanOrEqualTo(6000));
        Assert.That(window.Sum() - window[0], Is.LessThan(6000), "one more removal would break the 3 × target rule");
    }

    [Test]
    public void Process_PublisherChange_CutsAndMarksDiscontinuityUntilItLeavesTheWindow()
    {
        using var h = new SegmenterHarness(Options(playlistLength: 3));
        h.Feed(VideoConfig());
        h.FeedVideo(0, 101, gopFrames: 50); // segments [0,2000) [2000,4000), one frame at 4000 open
        h.Time.Advance(TimeSpan.FromSeconds(10));
        h.Feed(VideoConfig(extra: FrameFlags.Discontinuity)); // the new publisher's first frame
        h.FeedVideo(0, 51, gopFrames: 50); // new timeline from 0: segment [0,2000)

        Assert.That(h.Playlist, Is.EqualTo(
            Header +
            "#EXT-X-TARGETDURATION:2\n" +
            "#EXT-X-MEDIA-SEQUENCE:0\n" +
            "#EXT-X-PROGRAM-DATE-TIME:2026-01-01T12:00:00.000Z\n" +
            "#EXTINF:2.000,\n" +
            "s1-0.ts\n" +
            "#EXTINF:2.000,\n" +
            "s1-1.ts\n" +
            "#EXTINF:0.040,\n" +
            "s1-2.ts\n" +
            "#EXT-X-DISCONTINUITY\n" +
            "#EXT-X-PROGRAM-DATE-TIME:2026-01-01T12:00:10.000Z\n" +
            "#EXTINF:2.000,\n" +
            "s1-3.ts\n"));

        h.FeedVideo(0, 251, gopFrames: 50, skip: 51); // 2040..10000, keyframes 4000..10000: four more segments

        Assert.That(h.Playlist, Is.EqualTo(
            Header +
            "#EXT-X-TARGETDURATION:2\n" +
            "#EXT-X-MEDIA-SEQUENCE:5\n" +
            "#EXT-X-DISCONTINUITY-SEQUENCE:1\n" +
            "#EXT-X-PROGRAM-DATE-TIME:2026-01-01T12:00:14.000Z\n" + // 10 s + two 2 s segments
            "#EXTINF:2.000,\n" +
            "s1-5.ts\n" +
            "#EXTINF:2.000,\n" +
            "s1-6.ts\n" +
            "#EXTINF:2.000,\n" +
            "s1-7.ts\n"));
    }

    [Test]
    public void Process_NewDifferentSequenceHeader_CutsAndStartsAtNextKeyframeWithDiscontinuity()
    {
        using var h = new SegmenterHarness();
        h.Feed(VideoConfig(version: 1));
        h.Feed(Video(0, key: true));
        h.Feed(Video(40));
        h.Feed(VideoConfig(version: 1)); // the same again (e.g. re-offered after drops): no cut
        h.Feed(Video(80));
        h.Feed(VideoConfig(version: 2));
        h.Feed(Audio(100)); // before the next keyframe: dropped
        h.Feed(Video(120));  // not a keyframe: dropped
        h.Feed(Video(160, key: true));
        h.Segmenter.Complete();

        Assert.That(h.Describe(), Is.EqualTo(new[] { "T V0k V40 V80 F", "T V160k F" }));
        Assert.That(h.Durations(), Is.EqualTo(new long[] { 120, 40 }));
        Assert.That(h.Stream.GetWindow().Select(s => s.Discontinuity), Is.EqualTo(new[] { false, true }));
    }

    [TestCase(2000, 1899, true, TestName = "Process_DtsBackMoreThan100Ms_IsDiscontinuity")]
    [TestCase(2000, 1900, false, TestName = "Process_DtsBack100Ms_IsJitter")]
    [TestCase(2000, 12_000, false, TestName = "Process_DtsForward10s_IsAGap")]
    [TestCase(2000, 12_001, true, TestName = "Process_DtsForwardMoreThan10s_IsDiscontinuity")]
    public void Process_TimestampJump(long last, long next, bool discontinuity)
    {
        using var h = new SegmenterHarness();
        h.Feed(Video(0, key: true));
        h.Feed(Video(last - 40));
        h.Feed(Video(last));
        h.Feed(Video(next, key: true));
        h.Feed(Video(next + 40));
        h.Segmenter.Complete();

        var window = h.Stream.GetWindow();
        if (discontinuity)
        {
            Assert.That(window.Select(s => s.Discontinuity), Is.EqualTo(new[] { false, true }));
            Assert.That(window[0].DurationMs, Is.EqualTo(last + 40), "last DTS + last step (40 ms) − 0");
            Assert.That(h.Diagnostics.Select(d => d.Key), Is.EqualTo(new[] { DiagnosticKeys.HlsTimestampJumps }));
            Assert.That(h.Diagnostics[0].Message, Does.Contain($"from {last} ms to {next} ms"));
        }
        else
        {
            // Not a break. A gap longer than the target cannot stay within it, and the diagnostic says so.
            Assert.That(window.Select(s => s.Discontinuity), Has.None.True);
            Assert.That(h.Diagnostics.Select(d => d.Key), Has.None.EqualTo(DiagnosticKeys.HlsTimestampJumps));
            Assert.That(h.Diagnostics.Any(d => d.Message.Contains("gap", StringComparison.Ordinal)), Is.EqualTo(next - last > 6000));
        }
    }

    [Test]
    public void Process_AudioSent300MsAheadOfVideo_AudioIsCutWithTheVideoKeyframe()
    {
        using var h = new SegmenterHarness();
        for (var ms = 0; ms <= 4000; ms += 20)
        {
            h.Feed(Audio(ms + 300)); // the encoder sends audio 300 ms before the video it plays with
            if (ms % 40 == 0)
            {
                h.Feed(Video(ms, key: ms % 2000 == 0));
            }
        }

        h.Segmenter.Complete();
        var segments = h.Describe();
        Assert.That(segments[1], Does.StartWith("T V2000k A2000 "), "the second segment's audio starts at its keyframe");
        Assert.That(segments[0], Does.Contain(" A1980 ").And.Not.Contain(" A2000 "));
    }

    [Test]
    public void Process_TimestampJumps_DiagnosticCountsThemByDirection()
    {
        using var h = new SegmenterHarness();
        h.Feed(Video(0, key: true));
        h.Feed(Video(40));
        h.Feed(Video(30_000, key: true)); // forwards
        h.Feed(Video(30_040));
        h.Feed(Video(5_000, key: true));  // backwards
        h.Feed(Video(5_040));
        h.Feed(Audio(5_000));
        h.Feed(Audio(60_000));            // forwards, on the audio track
        h.Segmenter.Complete();

        Assert.That(h.Diagnostics.Select(d => d.Key), Is.All.EqualTo(DiagnosticKeys.HlsTimestampJumps));
        Assert.That(h.Diagnostics[^1].Message, Does.Contain("jumped 3 time(s) (1 backwards, 2 forwards; the last on the audio track from 5000 ms to 60000 ms)"));
    }

    [Test]
    public void Process_AudioOnly_CutsByTime()
    {
        using var h = new SegmenterHarness();
        h.Feed(AudioConfig());
        for (var dts = 0; dts <= 4000; dts += 20)
        {
            h.Feed(Audio(dts));
        }

        Assert.That(h.Segmenter.IsVideoLed, Is.False);
        Assert.That(h.Durations(), Is.EqualTo(new long[] { 2000, 2000 }));
        Assert.That(h.Describe()[1], Does.StartWith("T A2000 A2020"));
    }

    [Test]
    public void Process_VideoJoinsAudioOnlyStream_CutsWithDiscontinuityAndWaitsForKeyframe()
    {
        using var h = new SegmenterHarness();
        h.Feed(Audio(0));
        h.Feed(Audio(20));
        h.Feed(VideoConfig(dts: 30));
        h.Feed(Audio(40)); // waits for the keyframe now
        h.Feed(Video(50, key: true));
        h.Feed(Audio(60));
        h.Segmenter.Complete();

        Assert.That(h.Segmenter.IsVideoLed, Is.True);
        Assert.That(h.Describe(), Is.EqualTo(new[] { "T A0 A20 F", "T V50k A60 F" }));
        Assert.That(h.Stream.GetWindow()[1].Discontinuity, Is.True);
    }

    [Test]
    public void Process_UnsupportedVideoCodec_SkipsTrackAndReportsOnce()
    {
        using var h = new SegmenterHarness();
        for (var dts = 0; dts <= 2000; dts += 20)
        {
            h.Feed(Video(dts, key: dts % 1000 == 0, codec: MediaCodec.Av1));
            h.Feed(Audio(dts));
        }

        Assert.That(h.Diagnostics.Select(d => d.Key), Is.EqualTo(new[] { DiagnosticKeys.HlsUnsupportedVideoCodec }));
        Assert.That(h.Diagnostics[0].Message, Does.Contain("Av1"));
        Assert.That(h.Segmenter.IsVideoLed, Is.False);
        Assert.That(h.Describe()[0], Does.StartWith("T A0 A20 "));
    }

    [Test]
    public void Process_LaterGopLongerThanTarget_IsSplitWithinTheTargetAndReported()
    {
        using var h = new SegmenterHarness(Options(playlistLength: 10));
        h.FeedVideo(0, 50, gopFrames: 50);      // first GOP 2 s → target 2
        h.FeedVideo(2000, 300, gopFrames: 100); // then 4 s GOPs of 40 ms frames
        h.Feed(Video(14_000, key: true));

        Assert.That(h.Stream.TargetDuration, Is.EqualTo(2));
        // EXTINF must round to ≤ 2 (< 2.5 s): each GOP is cut within the last four frames before that, at a frame that
        // presents after the segment (all do here: no B-frames), so at 2360 ms.
        Assert.That(h.Durations(), Is.EqualTo(new long[] { 2000, 2360, 1640, 2360, 1640, 2360, 1640 }));
        Assert.That(h.Describe().Select(d => d.Split(' ')[1].EndsWith('k')), Is.EqualTo(new[] { true, true, false, true, false, true, false }), "the pieces after a split start between keyframes");
        Assert.That(h.Diagnostics.Select(d => d.Key).Distinct(), Is.EqualTo(new[] { DiagnosticKeys.HlsKeyframeInterval }));
        Assert.That(h.Diagnostics[^1].Message, Does.Contain("cut between keyframes").And.Contain("at most 2 s"));
        Assert.That(h.Playlist, Does.Contain("#EXT-X-TARGETDURATION:2\n").And.Contain("#EXTINF:2.360,\n").And.Not.Contain("#EXTINF:4."));
    }

    [Test]
    public void Process_FirstGopLongerThanTheMaximumTarget_IsSplitAndTheTargetIsTheMaximum()
    {
        using var h = new SegmenterHarness(Options(playlistLength: 10));
        h.FeedVideo(0, 501, gopFrames: 250); // 10 s GOPs: the first one cannot fix a 10 s target

        Assert.That(h.Stream.TargetDuration, Is.EqualTo(6));
        Assert.That(h.Durations(), Is.EqualTo(new long[] { 6360, 3640, 6360, 3640 }));
        Assert.That(h.Durations().Select(SegmentationPolicy.RoundToSeconds), Has.All.LessThanOrEqualTo(6));
    }

    [Test]
    public void Process_FirstGopLongerThanSegmentDuration_TargetCoversIt()
    {
        using var h = new SegmenterHarness();
        h.FeedVideo(0, 301, gopFrames: 100); // 4 s GOPs

        Assert.That(h.Stream.TargetDuration, Is.EqualTo(4));
        Assert.That(h.Diagnostics, Is.Empty);
        Assert.That(h.Playlist, Does.Contain("#EXT-X-TARGETDURATION:4\n#"));
    }

    [Test]
    public void Process_FirstSegmentCutByBreak_IsHeldBackUntilAKeyframeCutFixesTheTarget()
    {
        using var h = new SegmenterHarness();
        h.Feed(VideoConfig(version: 1));
        h.FeedVideo(0, 3, gopFrames: 100);   // 0, 40, 80
        h.Feed(VideoConfig(version: 2));      // break: a 120 ms segment, too short to show the GOP
        Assert.That(h.Stream.Playlist, Is.Null, "held back: the target is not known yet");

        h.FeedVideo(200, 101, gopFrames: 100); // 4 s GOP from 200: cut at 4200

        Assert.That(h.Stream.TargetDuration, Is.EqualTo(4));
        Assert.That(h.Durations(), Is.EqualTo(new long[] { 120, 4000 }));
        Assert.That(h.Diagnostics, Is.Empty);
    }

    [Test]
    public void Process_SegmentReachesByteCap_CutsWithoutKeyframeAndReportsOnce()
    {
        var options = Options();
        options.MaxSegmentBytes = 64 * 1024;
        using var h = new SegmenterHarness(options);
        h.Muxer.PaddingPerFrame = 10_000;
        h.FeedVideo(0, 20, gopFrames: 1000);

        var window = h.Stream.GetWindow();
        Assert.That(window, Has.Length.EqualTo(2));
        Assert.That(window[0].Length, Is.GreaterThanOrEqualTo(64 * 1024));
        Assert.That(h.Diagnostics.Select(d => d.Key), Is.EqualTo(new[] { DiagnosticKeys.HlsSegmentSize }));
    }

    [Test]
    public void Process_MuxerRefusesKeyframeWithoutConfig_DoesNotStartASegment()
    {
        using var h = new SegmenterHarness();
        h.Muxer.RequireConfig = true;
        h.Feed(Video(0, key: true));
        h.Feed(Video(40));
        h.Feed(VideoConfig(dts: 50));
        h.Feed(Video(80, key: true));
        h.Segmenter.Complete();

        Assert.That(h.Describe(), Is.EqualTo(new[] { "T V80k F" }));
    }

    [Test]
    public void Process_WithPartDuration_PartsWithinTheTargetTileTheSegment()
    {
        using var h = new SegmenterHarness(partDuration: TimeSpan.FromMilliseconds(500));
        h.FeedVideo(0, 51, gopFrames: 50);

        var segment = h.Stream.GetWindow().Single();
        var parts = segment.Parts;
        Assert.That(parts.Select(p => p.PartIndex), Is.EqualTo(new[] { 0, 1, 2, 3, 4 }));

        // 40 ms frames: a part ends before the frame that would take it past 500 ms; the segment's last part is short.
        Assert.That(parts.Select(p => p.DurationMs), Is.EqualTo(new long[] { 480, 480, 480, 480, 80 }));
        Assert.That(parts.Select(p => p.Independent), Is.EqualTo(new[] { true, false, false, false, false }));
        Assert.That(h.Stream.GetOpenParts(), Is.Empty, "the next segment has one frame: no part of it is complete");
        Assert.That(parts.Select(p => p.SegmentSequenceNumber).Distinct(), Is.EqualTo(new long[] { 0 }));
        Assert.That(parts[0].Offset, Is.Zero);
        for (var i = 1; i < parts.Count; i++)
        {
            Assert.That(parts[i].Offset, Is.EqualTo(parts[i - 1].Offset + parts[i - 1].Length));
        }

        Assert.That(parts[^1].Offset + parts[^1].Length, Is.EqualTo(segment.Length));
    }

    [Test]
    public void Complete_BeforeAnySegment_EndsWithoutPlaylist()
    {
        using var h = new SegmenterHarness();
        h.Feed(Audio(0, codec: MediaCodec.Opus));
        h.Segmenter.Complete();

        Assert.That(h.Stream.IsEnded, Is.True);
        Assert.That(h.Stream.Playlist, Is.Null);
    }
}
