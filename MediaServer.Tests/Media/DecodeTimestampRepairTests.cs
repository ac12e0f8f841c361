using MediaServer.Core.Buffers;
using MediaServer.Core.Diagnostics;
using MediaServer.Core.Media;
using MediaServer.Core.Streams;

namespace MediaServer.Tests.Media;

public class DecodeTimestampRepairTests
{
    private static MediaFrame Video(long dts, int cts, FrameFlags flags = FrameFlags.None) =>
        new(MediaKind.Video, MediaCodec.H264, flags, dts, cts, default!);

    private static List<(long Dts, long Pts)> Run(params MediaFrame[] frames)
    {
        var repair = default(DecodeTimestampRepair);
        var result = new List<(long, long)>();
        foreach (var input in frames)
        {
            var frame = input;
            repair.Repair(ref frame);
            result.Add((frame.Timestamp, frame.PresentationTimestamp));
        }

        return result;
    }

    [Test]
    public void Repair_GStreamerClampedStart_DtsStrictlyIncreasing_PtsKept()
    {
        // rtmp2sink with 2 B-frames: true DTS −67, −33, 0, 33 ... clamped to 0; PTS 0, 100, 33, 67 (I P B B).
        var output = Run(Video(0, 0, FrameFlags.Keyframe), Video(0, 100), Video(0, 33), Video(33, 34), Video(67, 66), Video(100, 33));

        Assert.That(output.Select(o => o.Dts), Is.EqualTo(new long[] { 0, 1, 2, 33, 67, 100 }));
        Assert.That(output.Select(o => o.Pts), Is.EqualTo(new long[] { 0, 100, 33, 67, 133, 133 }));
        Assert.That(output.All(o => o.Pts >= o.Dts), Is.True);
    }

    [Test]
    public void Repair_PtsThatWouldFallBelowTheNewDts_IsRaisedToIt()
    {
        var output = Run(Video(10, 0), Video(10, 0), Video(10, 0));

        Assert.That(output, Is.EqualTo(new[] { (10L, 10L), (11L, 11L), (12L, 12L) }));
    }

    [Test]
    public void Repair_EveryTimestampTheSame_KeepsCreepingForward()
    {
        var output = Run(Enumerable.Range(0, 300).Select(_ => Video(0, 0)).ToArray());

        Assert.That(output.Select(o => o.Dts), Is.EqualTo(Enumerable.Range(0, 300).Select(i => (long)i)));
    }

    [Test]
    public void Repair_StepBackBeyondTheLimit_IsAJump_PassedThrough()
    {
        var output = Run(Video(5000, 0), Video(5040, 0), Video(5040 - DecodeTimestampRepair.MaxRepairedStepBackMs - 1, 0), Video(4980, 0));

        Assert.That(output.Select(o => o.Dts), Is.EqualTo(new long[] { 5000, 5040, 4939, 4980 }));
    }

    [Test]
    public void Repair_SequenceHeader_PassesAndDoesNotMoveTheTimeline()
    {
        var output = Run(Video(40, 0), Video(0, 0, FrameFlags.Config), Video(80, 0));

        Assert.That(output.Select(o => o.Dts), Is.EqualTo(new long[] { 40, 0, 80 }));
    }

    private sealed class Sink : IFrameSink
    {
        public List<(MediaKind Kind, long Dts, long Pts)> Frames { get; } = [];

        public void OnFrame(in MediaFrame frame) => Frames.Add((frame.Kind, frame.Timestamp, frame.PresentationTimestamp));

        public void OnEnded()
        {
        }
    }

    [Test]
    public void Publish_RepairsPerTrack_CountsInTheDiagnostics()
    {
        var hub = new StreamHub();
        using var publisher = hub.Publish("gst");
        var sink = new Sink();
        publisher.Stream.AddSink(sink, replayGop: false);
        void Send(MediaKind kind, long dts, int cts)
        {
            var frame = new MediaFrame(kind, kind == MediaKind.Video ? MediaCodec.H264 : MediaCodec.Aac, kind == MediaKind.Video && dts == 0 && cts == 0 ? FrameFlags.Keyframe : FrameFlags.None, dts, cts, MediaBuffer.Rent(4));
            publisher.Publish(frame);
            frame.Payload.Release();
        }

        Send(MediaKind.Video, 0, 0);
        Send(MediaKind.Audio, 0, 0);
        Send(MediaKind.Video, 0, 100);
        Send(MediaKind.Audio, 23, 0); // audio has its own timeline: not touched by video's repairs
        Send(MediaKind.Video, 0, 33);

        Assert.That(sink.Frames, Is.EqualTo(new[] { (MediaKind.Video, 0L, 0L), (MediaKind.Audio, 0L, 0L), (MediaKind.Video, 1L, 100L), (MediaKind.Audio, 23L, 23L), (MediaKind.Video, 2L, 33L) }));
        Assert.That(publisher.RepairedTimestamps, Is.EqualTo(2));
        Assert.That(publisher.Stream.Diagnostics[DiagnosticKeys.TimestampsRepaired], Does.StartWith("2 frames"));
    }
}
