using MediaServer.Core.Buffers;
using MediaServer.Core.Media;

namespace MediaServer.Tests.Media;

public class FrameInterleaverTests
{
    private static MediaFrame Video(long ts, FrameFlags flags = FrameFlags.None) => new(MediaKind.Video, MediaCodec.H264, flags, ts, 0, MediaBuffer.Rent(4));

    private static MediaFrame Audio(long ts) => new(MediaKind.Audio, MediaCodec.Aac, FrameFlags.None, ts, 0, MediaBuffer.Rent(4));

    /// <summary>Adds each frame (dropping the caller's reference, as the segmenter's caller does) and takes what is due.</summary>
    private static List<string> Run(FrameInterleaver interleaver, IEnumerable<MediaFrame> frames, bool flushAtEnd)
    {
        var taken = new List<string>();
        void Take(bool flush)
        {
            while (interleaver.TryTake(out var frame, flush))
            {
                taken.Add((frame.IsVideo ? "V" : "A") + frame.Timestamp);
                Assert.That(frame.Payload.RefCount, Is.EqualTo(1), "only the taker's reference is left");
                frame.Payload.Release();
            }
        }

        foreach (var frame in frames)
        {
            interleaver.Add(frame);
            frame.Payload.Release();
            Take(flush: false);
        }

        if (flushAtEnd)
        {
            Take(flush: true);
        }

        return taken;
    }

    private static MediaFrame AudioConfig(long ts) => new(MediaKind.Audio, MediaCodec.Aac, FrameFlags.Config, ts, 0, MediaBuffer.Rent(2));

    private static string Name(in MediaFrame frame) => (frame.IsVideo ? "V" : "A") + (frame.IsConfig ? "c" : frame.IsKeyframe ? "k" : "") + frame.Timestamp;

    [Test]
    public void TryTake_AudioConfigTiedWithKeyframe_ConfigFirst()
    {
        // A publish start as RtmpPublishClient/ffmpeg send it: both sequence headers at 0, then the first frames at 0.
        var interleaver = new FrameInterleaver(1000);
        MediaFrame[] sent = [Video(0, FrameFlags.Config | FrameFlags.Keyframe), AudioConfig(0), Video(0, FrameFlags.Keyframe), Audio(0), Video(33), Audio(23)];
        var taken = new List<string>();
        foreach (var frame in sent)
        {
            interleaver.Add(frame);
            frame.Payload.Release();
            while (interleaver.TryTake(out var next))
            {
                taken.Add(Name(next));
                next.Payload.Release();
            }
        }

        while (interleaver.TryTake(out var next, flush: true))
        {
            taken.Add(Name(next));
            next.Payload.Release();
        }

        // The audio configuration before the keyframe; audio media at the keyframe's time still after it.
        Assert.That(taken, Is.EqualTo(new[] { "Vc0", "Ac0", "Vk0", "A0", "A23", "V33" }));
    }

    [Test]
    public void TryTake_AudioSentAhead_ComesOutInTimestampOrder()
    {
        // Audio sent 100 ms ahead: A0 A40 A80 A120 arrive before V0.
        MediaFrame[] sent = [Audio(0), Audio(40), Audio(80), Audio(120), Video(0), Audio(160), Video(40), Video(80), Audio(200), Video(120), Video(160), Video(200)];
        var taken = Run(new FrameInterleaver(1000), sent, flushAtEnd: true);
        Assert.That(taken, Is.EqualTo(new[] { "A0", "A40", "A80", "A120", "V0", "A160", "V40", "V80", "A200", "V120", "V160", "V200" }
            .OrderBy(n => long.Parse(n[1..], System.Globalization.CultureInfo.InvariantCulture)).ThenBy(n => n[0] == 'V' ? 0 : 1)));
    }

    [Test]
    public void TryTake_AudioCaughtUp_VideoLeavesAsItArrives()
    {
        // 48 kHz AAC (21.33 ms, rounded to 21/22 in FLV) and 30 fps video, sent in timestamp order: the audio
        // before each video frame is at most one audio interval older, so no earlier audio can follow it.
        var interleaver = new FrameInterleaver(1000);
        MediaFrame[] sent = [Audio(0), Video(0), Audio(21), Video(33), Audio(43), Audio(64), Video(67), Audio(85), Video(100)];
        foreach (var frame in sent)
        {
            var taken = Run(interleaver, [frame], flushAtEnd: false);
            if (frame.IsVideo && frame.Timestamp > 0)
            {
                Assert.That(taken.LastOrDefault(), Is.EqualTo("V" + frame.Timestamp), "the video frame leaves on arrival (after the audio before it)");
            }
        }

        Assert.That(interleaver.Count, Is.Zero);
    }

    [Test]
    public void TryTake_AudioBehindTheVideo_VideoWaitsForIt()
    {
        var interleaver = new FrameInterleaver(1000);
        Assert.That(Run(interleaver, [Audio(0), Audio(21), Video(0), Video(67)], flushAtEnd: false), Is.EqualTo(new[] { "V0", "A0", "A21" }),
            "audio 21 + 21 ms is before video 67: audio at 42 may still come");
        Assert.That(Run(interleaver, [Audio(43)], flushAtEnd: false), Is.EqualTo(new[] { "A43" }), "the next audio, at 64, may still be earlier");
        Assert.That(Run(interleaver, [Audio(64)], flushAtEnd: false), Is.EqualTo(new[] { "A64", "V67" }), "audio 64 + 21 reaches 67");
    }

    [Test]
    public void TryTake_AudioEarlierThanItsInterval_StillComesOut()
    {
        // Released at 38 (21 + 21 - 2 ms of jitter allowed); the next audio comes at 37 after all: it follows the video.
        var interleaver = new FrameInterleaver(1000);
        var taken = Run(interleaver, [Audio(0), Audio(21), Video(38), Audio(37), Audio(58)], flushAtEnd: true);
        Assert.That(taken, Is.EqualTo(new[] { "A0", "A21", "V38", "A37", "A58" }));
    }

    [Test]
    public void TryTake_AudioJitterWithinTheAllowance_KeepsTheOrder()
    {
        // Intervals 21, 22, 19: the shortest of the last four (19) less 2 ms puts the next audio at 60 + 17 = 77.
        var interleaver = new FrameInterleaver(1000);
        Assert.That(Run(interleaver, [Audio(0), Audio(21), Audio(43), Video(40), Audio(62), Video(80)], flushAtEnd: false),
            Is.EqualTo(new[] { "A0", "A21", "V40", "A43", "A62" }), "video 80 waits: audio at 79 could still come");
        Assert.That(Run(interleaver, [Audio(81)], flushAtEnd: false), Is.EqualTo(new[] { "V80" }), "then audio 81 waits for video");
    }

    [Test]
    public void TryTake_AfterAFlush_VideoWaitsForTheNewAudio()
    {
        // A new publisher: the old audio's intervals say nothing about where the new one starts.
        var interleaver = new FrameInterleaver(1000);
        Run(interleaver, [Audio(0), Audio(21), Audio(43), Video(40)], flushAtEnd: true);
        Assert.That(Run(interleaver, [Video(5)], flushAtEnd: false), Is.Empty);
        Assert.That(Run(interleaver, [Audio(0)], flushAtEnd: false), Is.EqualTo(new[] { "A0" }));
        Assert.That(Run(interleaver, [Audio(21)], flushAtEnd: false), Is.EqualTo(new[] { "V5" }), "audio 21 is past video 5");
    }

    [Test]
    public void TryTake_AudioGapLongerThanAFrame_VideoWaits()
    {
        // A 300 ms gap between audio frames is no frame interval: nothing says when the next audio comes.
        var interleaver = new FrameInterleaver(1000);
        Assert.That(Run(interleaver, [Audio(0), Audio(300), Video(310)], flushAtEnd: false), Is.EqualTo(new[] { "A0", "A300" }));
        Assert.That(interleaver.Count, Is.EqualTo(1));
    }

    [Test]
    public void TryTake_VideoOnly_PassesThroughAtOnce()
    {
        var interleaver = new FrameInterleaver(100);
        var taken = Run(interleaver, [new MediaFrame(MediaKind.Audio, MediaCodec.Aac, FrameFlags.Config, 0, 0, MediaBuffer.Rent(2)), Video(0), Video(40), Video(80)], flushAtEnd: false);
        // The configuration ties with V0 and goes first (TryTake_AudioConfigTiedWithKeyframe_ConfigFirst).
        Assert.That(taken, Is.EqualTo(new[] { "A0", "V0", "V40", "V80" }), "an audio configuration is not audio media: video does not wait for it");
        Assert.That(interleaver.Count, Is.Zero);
    }

    [Test]
    public void TryTake_AudioOnly_WaitsOnceAtTheStartThenPassesThrough()
    {
        var interleaver = new FrameInterleaver(100);
        var frames = Enumerable.Range(0, 10).Select(i => Audio(i * 20)).ToList();
        var taken = Run(interleaver, frames, flushAtEnd: false);
        Assert.That(taken, Is.EqualTo(frames.Select(f => "A" + f.Timestamp)), "after 100 ms alone, audio stops waiting for video");
        Assert.That(interleaver.Count, Is.Zero);
    }

    [Test]
    public void TryTake_OtherTrackStops_WaitsAtMostMaxDelay()
    {
        var interleaver = new FrameInterleaver(100);
        var frames = new List<MediaFrame> { Audio(0), Video(0) };
        for (var ts = 40; ts <= 400; ts += 40)
        {
            frames.Add(Video(ts)); // audio has stopped
        }

        var taken = Run(interleaver, frames, flushAtEnd: false);
        Assert.That(taken, Is.EqualTo(new[] { "V0", "A0", "V40", "V80", "V120", "V160", "V200", "V240", "V280" }), "at most 100 ms of video waits");
        Assert.That(interleaver.Count, Is.EqualTo(3));
        interleaver.Clear();
    }

    [Test]
    public void TryTake_HeadsOnDifferentTimelines_LeaveInArrivalOrder()
    {
        // Video jumped 60 s ahead: comparing across the jump would hold the audio behind a minute of video.
        var taken = Run(new FrameInterleaver(1000), [Audio(0), Video(0), Video(60_000), Audio(40), Video(60_040), Audio(80)], flushAtEnd: true);
        Assert.That(taken, Is.EqualTo(new[] { "V0", "A0", "V60000", "A40", "V60040", "A80" }));
    }
}
