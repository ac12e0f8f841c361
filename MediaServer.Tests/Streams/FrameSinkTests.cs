using MediaServer.Core.Buffers;
using MediaServer.Core.Media;
using MediaServer.Core.Streams;

namespace MediaServer.Tests.Streams;

/// <summary><see cref="LiveStream.AddSink"/>: frames on the publisher's thread, in order, with no queue.</summary>
public class FrameSinkTests
{
    private sealed class RecordingSink : IFrameSink
    {
        public List<(MediaKind Kind, bool Config, long Timestamp, int Thread)> Frames { get; } = [];

        public int Ended { get; private set; }

        public void OnFrame(in MediaFrame frame) => Frames.Add((frame.Kind, frame.IsConfig, frame.Timestamp, Environment.CurrentManagedThreadId));

        public void OnEnded() => Ended++;
    }

    private static void Send(Publisher publisher, MediaKind kind, long ts, FrameFlags flags = FrameFlags.None)
    {
        var frame = new MediaFrame(kind, kind == MediaKind.Video ? MediaCodec.H264 : MediaCodec.Aac, flags, ts, 0, MediaBuffer.Rent(4));
        publisher.Publish(frame);
        frame.Payload.Release();
    }

    [Test]
    public void AddSink_GetsEveryFrameOnThePublishersThread_ThenOnEndedOnce()
    {
        var hub = new StreamHub();
        var publisher = hub.Publish("a");
        var sink = new RecordingSink();
        publisher.Stream.AddSink(sink, replayGop: false);

        Send(publisher, MediaKind.Video, 0, FrameFlags.Keyframe);
        Send(publisher, MediaKind.Audio, 10);
        Assert.That(sink.Frames.Select(f => f.Timestamp), Is.EqualTo(new[] { 0L, 10L }));
        Assert.That(sink.Frames.Select(f => f.Thread), Is.All.EqualTo(Environment.CurrentManagedThreadId));

        publisher.Unpublish();
        Assert.That(sink.Ended, Is.EqualTo(1));
        publisher.Dispose();
        Assert.That(sink.Ended, Is.EqualTo(1));
    }

    [Test]
    public void AddSink_WithGopReplay_StartsWithConfigsAndTheLastKeyframe()
    {
        var hub = new StreamHub();
        using var publisher = hub.Publish("a");
        Send(publisher, MediaKind.Video, 0, FrameFlags.Config | FrameFlags.Keyframe);
        Send(publisher, MediaKind.Video, 0, FrameFlags.Keyframe);
        Send(publisher, MediaKind.Video, 33);
        Send(publisher, MediaKind.Video, 66, FrameFlags.Keyframe);
        Send(publisher, MediaKind.Video, 100);

        var sink = new RecordingSink();
        publisher.Stream.AddSink(sink, replayGop: true);
        Send(publisher, MediaKind.Video, 133);

        Assert.That(sink.Frames.Select(f => (f.Config, f.Timestamp)), Is.EqualTo(new[] { (true, 0L), (false, 66L), (false, 100L), (false, 133L) }));
    }

    [Test]
    public void RemoveSink_StopsDelivery_WithoutOnEnded()
    {
        var hub = new StreamHub();
        var publisher = hub.Publish("a");
        var kept = new RecordingSink();
        var removed = new RecordingSink();
        publisher.Stream.AddSink(kept, replayGop: false);
        publisher.Stream.AddSink(removed, replayGop: false);
        Send(publisher, MediaKind.Audio, 0);
        publisher.Stream.RemoveSink(removed);
        Send(publisher, MediaKind.Audio, 21);
        publisher.Unpublish();

        Assert.That(kept.Frames, Has.Count.EqualTo(2));
        Assert.That(removed.Frames, Has.Count.EqualTo(1));
        Assert.That((kept.Ended, removed.Ended), Is.EqualTo((1, 0)));
    }

    [Test]
    public void AddSink_OnAnEndedStream_GetsOnEndedAtOnce()
    {
        var hub = new StreamHub();
        var publisher = hub.Publish("a");
        var stream = publisher.Stream;
        publisher.Unpublish();

        var sink = new RecordingSink();
        stream.AddSink(sink, replayGop: true);
        Assert.That((sink.Frames.Count, sink.Ended), Is.EqualTo((0, 1)));
    }
}
