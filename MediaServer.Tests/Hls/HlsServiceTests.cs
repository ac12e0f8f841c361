using MediaServer.Core.Diagnostics;
using MediaServer.Core.Media;
using MediaServer.Core.Streams;
using MediaServer.Hls;
using MediaServer.Hls.Storage;
using Microsoft.Extensions.Options;
using static MediaServer.Tests.Hls.HlsTestKit;

namespace MediaServer.Tests.Hls;

public class HlsServiceTests
{
    private static async Task<HlsStream> WaitFor(HlsStreamStore store, string id, Func<HlsStream, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            if (store.Find(id) is { } stream && condition(stream))
            {
                return stream;
            }

            await Task.Delay(10);
        }

        throw new TimeoutException($"HLS stream '{id}' did not reach the expected state.");
    }

    private static void Publish(Publisher publisher, MediaFrame frame)
    {
        publisher.Publish(frame);
        frame.Payload.Release();
    }

    [Test]
    public async Task Service_StreamPublishedAndEnded_ProducesSegmentsThenEndList()
    {
        var options = Options();
        var hub = new StreamHub();
        using var store = new HlsStreamStore(options);
        using var service = new HlsService(hub, store, Microsoft.Extensions.Options.Options.Create(options), muxerFactory: () => new FakeSegmentMuxer());
        await service.StartAsync(CancellationToken.None);

        var publisher = hub.Publish("cam");
        Publish(publisher, VideoConfig());
        Publish(publisher, Audio(0, codec: MediaCodec.Opus)); // not carried in TS: diagnostic, skipped
        var watched = Video(0, key: true);
        publisher.Publish(watched); // we keep our reference to see the consumer release its own
        for (var dts = 40; dts <= 4000; dts += 40)
        {
            Publish(publisher, Video(dts, key: dts % 2000 == 0));
        }

        var hls = await WaitFor(store, "cam", s => s.NextSequenceNumber == 2);
        Assert.That(hls.TargetDuration, Is.EqualTo(2));
        Assert.That(publisher.Stream.Diagnostics.Keys, Is.EquivalentTo(new[] { DiagnosticKeys.HlsUnsupportedAudioCodec }));
        Assert.That(watched.Payload.RefCount, Is.EqualTo(1), "the consumer released its reference");
        watched.Payload.Release();

        publisher.Unpublish(); // a clean unpublish ends the stream at once
        publisher.Dispose();
        await WaitFor(store, "cam", s => s.IsEnded);

        Assert.That(System.Text.Encoding.UTF8.GetString(hls.Playlist!), Does.EndWith("s1-2.ts\n#EXT-X-ENDLIST\n".Replace("s1", hls.SessionId, StringComparison.Ordinal)));
        await service.StopAsync(CancellationToken.None);
        Assert.That(service.ActiveStreams, Is.Zero);
    }

    [Test]
    public async Task Service_StreamLiveBeforeStart_IsPickedUp()
    {
        var options = Options();
        var hub = new StreamHub();
        using var store = new HlsStreamStore(options);
        using var publisher = hub.Publish("early");
        using var service = new HlsService(hub, store, Microsoft.Extensions.Options.Options.Create(options), muxerFactory: () => new FakeSegmentMuxer());

        await service.StartAsync(CancellationToken.None);
        for (var dts = 0; dts <= 2000; dts += 40)
        {
            Publish(publisher, Video(dts, key: dts % 2000 == 0));
        }

        var hls = await WaitFor(store, "early", s => s.NextSequenceNumber == 1);
        Assert.That(hls.IsEnded, Is.False);
        await service.StopAsync(CancellationToken.None);
    }

    [Test]
    public async Task Service_MuxerThrowsOnEveryFrame_EndsThatStreamAndReports()
    {
        var options = Options();
        var hub = new StreamHub();
        using var store = new HlsStreamStore(options);
        using var service = new HlsService(hub, store, Microsoft.Extensions.Options.Options.Create(options), muxerFactory: () => new ThrowingMuxer());
        await service.StartAsync(CancellationToken.None);
        using var publisher = hub.Publish("bad");

        for (var i = 0; i < HlsService.MaxConsecutiveFailures - 1; i++)
        {
            Publish(publisher, Video(i * 40, key: true));
        }

        await Task.Delay(100);
        Assert.That(store.Find("bad")!.IsEnded, Is.False, "single bad frames are dropped");
        Publish(publisher, Video(10_000, key: true));

        await WaitFor(store, "bad", s => s.IsEnded);
        Assert.That(publisher.Stream.Diagnostics.Keys, Does.Contain(DiagnosticKeys.HlsFailed));
        await service.StopAsync(CancellationToken.None);
    }

    private sealed class ThrowingMuxer : ISegmentMuxer
    {
        public bool IsSupported(MediaCodec codec) => true;

        public MuxRejection Configure(in MediaFrame config) => throw new InvalidOperationException("muxer bug");

        public MuxRejection Write(in MediaFrame frame, System.Buffers.IBufferWriter<byte> output) => throw new InvalidOperationException("muxer bug");

        public void BeginSegment(System.Buffers.IBufferWriter<byte> output)
        {
        }

        public void Flush(System.Buffers.IBufferWriter<byte> output)
        {
        }
    }
}
