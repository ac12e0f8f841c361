using MediaServer.Core.Buffers;
using MediaServer.Core.Diagnostics;
using MediaServer.Core.Media;
using MediaServer.Core.Streams;

namespace MediaServer.Tests.Streams;

public class StreamHubTests
{
    private static MediaFrame Video(long ts, bool key, byte marker = 0)
    {
        var payload = MediaBuffer.Rent(8);
        payload.Span.Fill(marker);
        return new MediaFrame(MediaKind.Video, MediaCodec.H264, key ? FrameFlags.Keyframe : FrameFlags.None, ts, 0, payload);
    }

    private static MediaFrame Audio(long ts)
        => new(MediaKind.Audio, MediaCodec.Aac, FrameFlags.None, ts, 0, MediaBuffer.Rent(4));

    private static MediaFrame Config(MediaKind kind)
        => new(kind, kind == MediaKind.Video ? MediaCodec.H264 : MediaCodec.Aac, FrameFlags.Config | (kind == MediaKind.Video ? FrameFlags.Keyframe : 0), 0, 0, MediaBuffer.Rent(4));

    /// <summary>Publishes and releases the caller's reference, as the RTMP session does.</summary>
    private static void Send(Publisher publisher, MediaFrame frame)
    {
        publisher.Publish(frame);
        frame.Payload.Release();
    }

    private static List<MediaFrame> Drain(Subscription subscription)
    {
        var frames = new List<MediaFrame>();
        while (subscription.TryRead(out var frame))
        {
            frames.Add(frame);
        }

        return frames;
    }

    [Test]
    public void Publish_WithTwoSubscribers_EachGetsEveryFrameAndReferencesBalance()
    {
        var hub = new StreamHub();
        using var publisher = hub.Publish("a");
        using var first = publisher.Stream.Subscribe(replayGop: false);
        using var second = publisher.Stream.Subscribe(replayGop: false);

        var frame = Video(0, key: true);
        publisher.Publish(frame);
        Assert.That(frame.Payload.RefCount, Is.EqualTo(4), "caller + GOP cache + two queues");

        var got1 = Drain(first);
        var got2 = Drain(second);
        Assert.That(got1, Has.Count.EqualTo(1));
        Assert.That(got2, Has.Count.EqualTo(1));
        got1[0].Payload.Release();
        got2[0].Payload.Release();
        frame.Payload.Release();
        Assert.That(frame.Payload.RefCount, Is.EqualTo(1), "only the GOP cache holds it");
    }

    [Test]
    public void Subscribe_WithGopReplay_StartsWithConfigsThenLastKeyframe()
    {
        var hub = new StreamHub();
        using var publisher = hub.Publish("a");
        Send(publisher, Config(MediaKind.Video));
        Send(publisher, Config(MediaKind.Audio));
        Send(publisher, Video(0, key: true, marker: 1));
        Send(publisher, Video(33, key: false));
        Send(publisher, Video(66, key: true, marker: 2));
        Send(publisher, Audio(70));
        Send(publisher, Video(100, key: false));

        using var late = publisher.Stream.Subscribe(replayGop: true);
        var frames = Drain(late);

        Assert.That(frames.Select(f => (f.Kind, f.IsConfig, f.Timestamp)), Is.EqualTo(new[]
        {
            (MediaKind.Video, true, 0L),
            (MediaKind.Audio, true, 0L),
            (MediaKind.Video, false, 66L),
            (MediaKind.Audio, false, 70L),
            (MediaKind.Video, false, 100L),
        }));
        Assert.That(frames[2].IsKeyframe, Is.True);
        frames.ForEach(f => f.Payload.Release());
    }

    [Test]
    public void SlowSubscriber_WhenQueueIsFull_DropsToNextKeyframeWithoutTouchingOthers()
    {
        var hub = new StreamHub(new StreamHubOptions { SubscriberQueueCapacity = 8 });
        using var publisher = hub.Publish("a");
        using var slow = publisher.Stream.Subscribe(replayGop: false);
        using var fast = publisher.Stream.Subscribe(replayGop: false);
        Send(publisher, Config(MediaKind.Video));

        var fastCount = 0;
        var slowFrames = new List<MediaFrame>();
        for (var i = 0; i < 40; i++)
        {
            Send(publisher, Video(i * 33, key: i % 20 == 0));
            fastCount += Drain(fast).Count(f => { f.Payload.Release(); return true; });
            if (i == 15)
            {
                slowFrames.AddRange(Drain(slow)); // the slow one catches up, but only at frame 15
            }
        }

        Assert.That(fastCount, Is.EqualTo(41), "the fast subscriber got every frame");
        Assert.That(slow.DroppedFrames, Is.GreaterThan(0));

        slowFrames.AddRange(Drain(slow));
        // It kept the first 8, then dropped until the keyframe at i = 20, where it resumed with the config first.
        var resumeIndex = slowFrames.FindIndex(f => f.Timestamp == 20 * 33);
        Assert.That(resumeIndex, Is.GreaterThan(0));
        Assert.That(slowFrames[resumeIndex - 1].IsConfig, Is.True, "configs are re-sent before the resuming keyframe");
        Assert.That(slowFrames[resumeIndex].IsKeyframe, Is.True);
        Assert.That(slow.DroppedFrames + slowFrames.Count(f => !f.IsConfig), Is.EqualTo(40));
        slowFrames.ForEach(f => f.Payload.Release());
    }

    [Test]
    public void Publish_WhenAnotherPublisherTakesOver_RevokesOldAndFlagsDiscontinuity()
    {
        var hub = new StreamHub();
        var first = hub.Publish("a");
        using var subscription = first.Stream.Subscribe(replayGop: false);
        Send(first, Video(0, key: true));

        using var second = hub.Publish("a");
        Assert.That(first.Revoked.IsCancellationRequested, Is.True);
        Assert.That(second.Stream, Is.SameAs(first.Stream));
        first.Dispose(); // the old connection closes after the takeover: the stream must go on
        Assert.That(hub.Find("a"), Is.Not.Null);

        Send(second, Video(0, key: true));
        var frames = Drain(subscription);
        Assert.That(frames, Has.Count.EqualTo(2));
        Assert.That(frames[0].Flags.HasFlag(FrameFlags.Discontinuity), Is.False);
        Assert.That(frames[1].Flags.HasFlag(FrameFlags.Discontinuity), Is.True);
        frames.ForEach(f => f.Payload.Release());
    }

    [Test]
    public async Task Unpublish_LastPublisher_EndsStreamAndCompletesSubscribers()
    {
        var hub = new StreamHub();
        LiveStream? ended = null;
        hub.StreamEnded += s => ended = s;
        var publisher = hub.Publish("a");
        using var subscription = publisher.Stream.Subscribe(replayGop: false);
        var frame = Video(0, key: true);
        publisher.Publish(frame);

        publisher.Unpublish();

        Assert.That(ended, Is.SameAs(publisher.Stream));
        Assert.That(hub.Find("a"), Is.Null);
        Assert.That(await subscription.WaitToReadAsync(), Is.True, "queued frames are still delivered");
        Drain(subscription).ForEach(f => f.Payload.Release());
        Assert.That(await subscription.WaitToReadAsync(), Is.False);
        Assert.That(frame.Payload.RefCount, Is.EqualTo(1), "the hub released its GOP reference");
        frame.Payload.Release();
    }

    [Test]
    public void Publish_AfterWarmUp_AllocatesNothingPerFrame()
    {
        var hub = new StreamHub();
        using var publisher = hub.Publish("a");
        using var subscription = publisher.Stream.Subscribe(replayGop: false);
        void Round(int i)
        {
            Send(publisher, Video(i, key: i % 30 == 0));
            while (subscription.TryRead(out var f))
            {
                f.Payload.Release();
            }
        }

        for (var i = 0; i < 200; i++)
        {
            Round(i);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 200; i < 1200; i++)
        {
            Round(i);
        }

        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    [Test]
    public void LostPublisher_ReconnectingWithinWindow_ContinuesTheSameStreamWithDiscontinuity()
    {
        var hub = new StreamHub(new StreamHubOptions { ReconnectWindow = TimeSpan.FromSeconds(30) });
        var ended = false;
        hub.StreamEnded += _ => ended = true;
        var first = hub.Publish("a");
        using var subscription = first.Stream.Subscribe(replayGop: false);
        Send(first, Video(0, key: true));

        first.Dispose(); // connection lost, no unpublish
        Assert.That(ended, Is.False);
        Assert.That(first.Stream.IsWaitingForReconnect, Is.True);

        using var second = hub.Publish("a");
        Assert.That(second.Stream, Is.SameAs(first.Stream));
        Assert.That(second.Stream.IsWaitingForReconnect, Is.False);
        Send(second, Video(0, key: true));

        var frames = Drain(subscription);
        Assert.That(frames.Select(f => f.Flags.HasFlag(FrameFlags.Discontinuity)), Is.EqualTo(new[] { false, true }));
        frames.ForEach(f => f.Payload.Release());
        Assert.That(ended, Is.False);
    }

    [Test]
    public async Task LostPublisher_NotReturningWithinWindow_EndsTheStream()
    {
        var hub = new StreamHub(new StreamHubOptions { ReconnectWindow = TimeSpan.FromMilliseconds(100) });
        var ended = new TaskCompletionSource();
        hub.StreamEnded += _ => ended.TrySetResult();
        var publisher = hub.Publish("a");
        using var subscription = publisher.Stream.Subscribe(replayGop: false);

        publisher.Dispose();

        Assert.That(await Task.WhenAny(ended.Task, Task.Delay(5000)), Is.SameAs(ended.Task));
        Assert.That(hub.Find("a"), Is.Null);
        Assert.That(await subscription.WaitToReadAsync(), Is.False);
    }

    [Test]
    public void Shutdown_EndsEveryStreamAndRevokesPublishers()
    {
        var hub = new StreamHub();
        using var a = hub.Publish("a");
        using var b = hub.Publish("b");

        hub.Shutdown();

        Assert.That(a.Revoked.IsCancellationRequested && b.Revoked.IsCancellationRequested, Is.True);
        Assert.That(a.RevokeReason, Is.EqualTo(PublisherRevokeReason.ServerShutdown));
        Assert.That(hub.Streams, Is.Empty);
        Assert.That(a.Stream.IsEnded && b.Stream.IsEnded, Is.True);
    }

    [Test]
    public void PublisherLostAfterItsStreamEnded_DoesNotWaitForAReconnect()
    {
        var hub = new StreamHub(new StreamHubOptions { ReconnectWindow = TimeSpan.FromMinutes(10) });
        var publisher = hub.Publish("a");
        hub.Shutdown();

        publisher.Dispose(); // the connection closes after the shutdown revoked it: not a lost encoder

        Assert.That(publisher.Stream.IsWaitingForReconnect, Is.False);
    }

    [Test]
    public void UpdateDiagnostic_TrueOnlyTheFirstTime_StatusShowsTheLatestMessage()
    {
        var hub = new StreamHub();
        using var publisher = hub.Publish("a");
        Assert.That(publisher.Stream.UpdateDiagnostic(DiagnosticKeys.HlsTimestampJumps, "jumped 1 time(s)"), Is.True);
        Assert.That(publisher.Stream.UpdateDiagnostic(DiagnosticKeys.HlsTimestampJumps, "jumped 2 time(s)"), Is.False);
        Assert.That(publisher.Stream.Diagnostics[DiagnosticKeys.HlsTimestampJumps], Is.EqualTo("jumped 2 time(s)"));
    }

    [Test]
    public void RevokeReason_SaysWhy()
    {
        var hub = new StreamHub();
        using var first = hub.Publish("a");
        using var second = hub.Publish("a");
        Assert.That(first.RevokeReason, Is.EqualTo(PublisherRevokeReason.TakenOver));
        Assert.That(second.RevokeReason, Is.EqualTo(PublisherRevokeReason.None));
        Assert.That(hub.Disconnect("a"), Is.True);
        Assert.That(second.RevokeReason, Is.EqualTo(PublisherRevokeReason.Disconnected));
    }
}
