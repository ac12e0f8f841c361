using System.Buffers.Binary;
using MediaServer.Rtmp.Messages;
using MediaServer.Rtmp.Chunking;
using MediaServer.Tests.Rtmp.Infrastructure;

namespace MediaServer.Tests.Rtmp;

/// <summary>Regressions a review of the session split found (issue 18): the handshake and the first window, a revoke racing the peer's close.</summary>
public class RtmpSessionRegressionTests
{
    [Test]
    public async Task FirstAcknowledgement_ComesAWindowAfterTheHandshake()
    {
        await using var harness = SessionHarness.Start();
        var streamId = await harness.ConnectAndCreateStreamAsync();
        using var timeout = new CancellationTokenSource(SessionHarness.Timeout);
        const uint window = 4200;
        await harness.Client.WriteMessageAsync(RtmpMessageType.WindowAcknowledgementSize, 0, 0, ProtocolControl.WindowAcknowledgementSize(window), timeout.Token);
        await harness.Client.WriteMessageAsync(RtmpMessageType.DataAmf0, 0, streamId, new byte[1000], timeout.Token);
        await Task.Delay(300);
        await harness.Client.WriteMessageAsync(RtmpMessageType.DataAmf0, 0, streamId, new byte[6000], timeout.Token);
        while (true)
        {
            var message = await harness.Client.ReadMessageAsync(timeout.Token) ?? throw new InvalidOperationException("closed");
            try
            {
                if (message.Type == RtmpMessageType.Acknowledgement)
                {
                    var seq = BinaryPrimitives.ReadUInt32BigEndian(message.Span);
                    Assert.That(seq, Is.GreaterThanOrEqualTo(3073u + window), "the handshake (3073 bytes) does not count toward the first window");
                    return;
                }
            }
            finally
            {
                message.Payload.Release();
            }
        }
    }


    private sealed class DisconnectOnFirstFrame(MediaServer.Core.Streams.StreamHub hub, string id) : MediaServer.Core.Streams.IFrameSink
    {
        private int _done;
        public void OnFrame(in MediaServer.Core.Media.MediaFrame frame)
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                hub.Disconnect(id);
            }
        }

        public void OnEnded()
        {
        }
    }

    [Test]
    [Repeat(3)]
    public async Task Disconnected_WhenThePeerClosesInTheSameRead_EndsTheStreamWithoutReconnectWindow()
    {
        var hub = new MediaServer.Core.Streams.StreamHub(new MediaServer.Core.Streams.StreamHubOptions { ReconnectWindow = TimeSpan.FromMinutes(10) });
        var harness = SessionHarness.Start(hub: hub);
        var streamId = await harness.ConnectAndCreateStreamAsync();
        using var timeout = new CancellationTokenSource(SessionHarness.Timeout);
        await harness.Client.PublishAsync(streamId, "media", timeout.Token);
        var stream = hub.Find("media")!;
        stream.AddSink(new DisconnectOnFirstFrame(hub, "media"), replayGop: false);
        await harness.Client.WriteMessageAsync(RtmpMessageType.Audio, 0, streamId, new byte[] { 0xAF, 0x00, 0x12, 0x10 }, timeout.Token);
        await harness.Client.DisposeAsync();
        await harness.WaitForEndAsync();
        Assert.That(stream.IsEnded, Is.True, "a disconnected stream ends at once (clean), no reconnect window");
        Assert.That(harness.Logger.Entries.Select(e => e.ToString()), Has.Some.Contains("disconnected"), "the log says the server closed it");
        await harness.DisposeAsync();
    }
}
