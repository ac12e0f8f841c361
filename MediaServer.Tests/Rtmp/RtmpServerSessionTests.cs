using System.Buffers.Binary;
using MediaServer.Core.Amf;
using MediaServer.Core.Flv;
using MediaServer.Core.Media;
using MediaServer.Core.Streams;
using MediaServer.Rtmp;
using MediaServer.Rtmp.Chunking;
using MediaServer.Rtmp.Handshake;
using MediaServer.Rtmp.Messages;
using MediaServer.Tests.Rtmp.Infrastructure;

namespace MediaServer.Tests.Rtmp;

[CancelAfter(30_000)]
public class RtmpServerSessionTests
{
    [Test]
    public async Task Publish_ScriptedClient_SeesResultAndPublishStart()
    {
        await using var harness = SessionHarness.Start();
        using var timeout = new CancellationTokenSource(SessionHarness.Timeout);
        await harness.Client.HandshakeAsync(timeout.Token);
        var connect = await harness.Client.ConnectAsync("live", "rtmp://localhost/live", timeout.Token);
        var streamId = await harness.Client.CreateStreamAsync(timeout.Token);
        var status = await harness.Client.PublishAsync(streamId, "key1", timeout.Token);

        Assert.Multiple(() =>
        {
            Assert.That(connect?["code"], Is.EqualTo("NetConnection.Connect.Success"));
            Assert.That(streamId, Is.EqualTo(1u));
            Assert.That(status["level"], Is.EqualTo("status"));
            Assert.That(status["code"], Is.EqualTo("NetStream.Publish.Start"));
            Assert.That(harness.Hub.Find("key1"), Is.Not.Null);
        });
    }

    [Test]
    public async Task Connect_ObjectEncodingAndControlMessages_AreSentBeforeResult()
    {
        await using var harness = SessionHarness.Start();
        using var timeout = new CancellationTokenSource(SessionHarness.Timeout);
        await harness.Client.HandshakeAsync(timeout.Token);
        var parameters = new AmfObject { { "app", "live" }, { "objectEncoding", 3d } };
        await harness.Client.SendCommandAsync(0, "connect", 1, parameters, [], timeout.Token);

        var types = new List<RtmpMessageType>();
        RtmpCommand? result = null;
        while (result is null)
        {
            var message = (await harness.Client.ReadMessageAsync(timeout.Token))!.Value;
            types.Add(message.Type);
            if (message.Type == RtmpMessageType.CommandAmf0)
            {
                result = RtmpCommand.Parse(message.Span, amf3: false);
            }
            else if (message.Type == RtmpMessageType.WindowAcknowledgementSize)
            {
                Assert.That(ProtocolControl.ReadUInt32(message.Span), Is.EqualTo(2_500_000u));
            }

            message.Payload.Release();
        }

        Assert.Multiple(() =>
        {
            Assert.That(types, Is.EqualTo(new[]
            {
                RtmpMessageType.WindowAcknowledgementSize, RtmpMessageType.SetPeerBandwidth, RtmpMessageType.SetChunkSize,
                RtmpMessageType.UserControl, RtmpMessageType.CommandAmf0,
            }));
            Assert.That(result.Name, Is.EqualTo("_result"));
            Assert.That(result.GetObjectArgument(-1)?["fmsVer"], Is.Not.Null);
            Assert.That(result.GetObjectArgument(0)?["objectEncoding"], Is.EqualTo(3d));
        });
    }

    [Test]
    public async Task Publish_ResolverRefuses_SeesBadNameAndConnectionCloses()
    {
        var resolver = new ScriptedResolver(_ => StreamResolution.Refuse(StreamRefusal.BadName, "no such key"));
        await using var harness = SessionHarness.Start(resolver);
        var streamId = await harness.ConnectAndCreateStreamAsync();
        using var timeout = new CancellationTokenSource(SessionHarness.Timeout);
        var status = await harness.Client.PublishAsync(streamId, "wrong", timeout.Token);

        Assert.Multiple(() =>
        {
            Assert.That(status["level"], Is.EqualTo("error"));
            Assert.That(status["code"], Is.EqualTo("NetStream.Publish.BadName"));
            Assert.That(status["description"], Is.EqualTo("no such key"));
        });
        Assert.That(await DrainUntilClosedAsync(harness), Is.True, "connection closed by the server");
        await harness.WaitForEndAsync();
        Assert.That(harness.Hub.Find("wrong"), Is.Null);
    }

    [Test]
    public async Task Publish_ResolverUnauthorized_SeesUnauthorized()
    {
        var resolver = new ScriptedResolver(_ => StreamResolution.Refuse(StreamRefusal.Unauthorized, "disabled"));
        await using var harness = SessionHarness.Start(resolver);
        var streamId = await harness.ConnectAndCreateStreamAsync();
        using var timeout = new CancellationTokenSource(SessionHarness.Timeout);
        var status = await harness.Client.PublishAsync(streamId, "key", timeout.Token);
        Assert.That(status["code"], Is.EqualTo("NetStream.Publish.Unauthorized"));
        await harness.WaitForEndAsync();
    }

    [Test]
    public async Task Publish_QueriesOnAppAndName_ReachResolverSplit()
    {
        var resolver = new ScriptedResolver(r => StreamResolution.Accept(r.Name));
        await using var harness = SessionHarness.Start(resolver);
        var streamId = await harness.ConnectAndCreateStreamAsync("live?token=a");
        using var timeout = new CancellationTokenSource(SessionHarness.Timeout);
        await harness.Client.PublishAsync(streamId, "key?sig=b", timeout.Token);
        var request = resolver.Requests.Single();
        Assert.That(request, Is.EqualTo(new StreamRequest("live", "key", "token=a&sig=b", "127.0.0.1:5000")));
    }

    [Test]
    public async Task Publish_SecondPublisherTakesOver_FirstConnectionCloses()
    {
        var hub = new StreamHub();
        await using var first = SessionHarness.Start(hub: hub);
        await using var second = SessionHarness.Start(hub: hub);
        using var timeout = new CancellationTokenSource(SessionHarness.Timeout);
        await first.Client.PublishAsync(await first.ConnectAndCreateStreamAsync(), "same", timeout.Token);
        await second.Client.PublishAsync(await second.ConnectAndCreateStreamAsync(), "same", timeout.Token);

        await first.WaitForEndAsync();
        Assert.Multiple(() =>
        {
            Assert.That(first.Session.ProtocolError, Is.Null);
            Assert.That(second.Run.IsCompleted, Is.False);
            Assert.That(hub.Find("same"), Is.Not.Null);
        });
    }

    [Test]
    public async Task ServerShutdown_PublisherIsToldThenDisconnected()
    {
        var hub = new StreamHub();
        await using var harness = SessionHarness.Start(hub: hub);
        using var timeout = new CancellationTokenSource(SessionHarness.Timeout);
        await harness.Client.PublishAsync(await harness.ConnectAndCreateStreamAsync(), "live1", timeout.Token);

        hub.Shutdown();

        var status = await harness.Client.WaitForStatusAsync(timeout.Token);
        await harness.WaitForEndAsync();
        Assert.Multiple(() =>
        {
            Assert.That(status.TryGetString("code", out var code) ? code : null, Is.EqualTo("NetStream.Unpublish.Success"));
            Assert.That(status.TryGetString("description", out var description) ? description : null, Does.Contain("shutting down"));
            Assert.That(harness.Session.ProtocolError, Is.Null);
            Assert.That(harness.Logger.Entries.Select(e => e.Message), Has.Some.Contains("server shutting down"));
        });
    }

    [Test]
    public async Task PingRequest_IsAnsweredWithPingResponse()
    {
        await using var harness = SessionHarness.Start();
        await harness.ConnectAndCreateStreamAsync();
        using var timeout = new CancellationTokenSource(SessionHarness.Timeout);
        await harness.Client.WriteMessageAsync(RtmpMessageType.UserControl, 0, 0, UserControlEvent.PingRequest(4242).ToPayload(), timeout.Token);
        var response = await ReadUntilAsync(harness, m => m.Type == RtmpMessageType.UserControl && UserControlEvent.Parse(m.Span).EventType == UserControlEventType.PingResponse, timeout.Token);
        Assert.That(UserControlEvent.Parse(response), Is.EqualTo(UserControlEvent.PingResponse(4242)));
    }

    [Test]
    public async Task WindowAckSize_FromPeer_ServerAcknowledgesEachWindow()
    {
        await using var harness = SessionHarness.Start();
        var streamId = await harness.ConnectAndCreateStreamAsync();
        using var timeout = new CancellationTokenSource(SessionHarness.Timeout);
        await harness.Client.WriteMessageAsync(RtmpMessageType.WindowAcknowledgementSize, 0, 0, ProtocolControl.WindowAcknowledgementSize(5000), timeout.Token);
        await harness.Client.WriteMessageAsync(RtmpMessageType.DataAmf0, 0, streamId, new byte[6000], timeout.Token);
        var ack = await ReadUntilAsync(harness, m => m.Type == RtmpMessageType.Acknowledgement, timeout.Token);

        // Everything received so far: handshake (3073) + all chunks; at least one window.
        Assert.That(BinaryPrimitives.ReadUInt32BigEndian(ack), Is.GreaterThan(3073u + 6000u));
    }

    [Test]
    public async Task SetPeerBandwidth_NewWindow_IsAnsweredWithWindowAckSize()
    {
        await using var harness = SessionHarness.Start();
        await harness.ConnectAndCreateStreamAsync();
        using var timeout = new CancellationTokenSource(SessionHarness.Timeout);
        await harness.Client.WriteMessageAsync(RtmpMessageType.SetPeerBandwidth, 0, 0, ProtocolControl.SetPeerBandwidth(1_000_000, PeerBandwidthLimitType.Hard), timeout.Token);
        var window = await ReadUntilAsync(harness, m => m.Type == RtmpMessageType.WindowAcknowledgementSize, timeout.Token);
        Assert.That(ProtocolControl.ReadUInt32(window), Is.EqualTo(1_000_000u));
    }

    [Test]
    public async Task UnknownCommand_WithTransactionId_IsAnsweredWithError()
    {
        await using var harness = SessionHarness.Start();
        await harness.ConnectAndCreateStreamAsync();
        using var timeout = new CancellationTokenSource(SessionHarness.Timeout);
        var ex = Assert.ThrowsAsync<RtmpProtocolException>(() => harness.Client.CallAsync("noSuchMethod", null, [], timeout.Token));
        Assert.That(ex!.Message, Does.Contain("NetConnection.Call.Failed"));
    }

    [Test]
    public async Task Play_LiveStream_SeesResetStartAndSampleAccess()
    {
        var hub = new StreamHub();
        using var publisher = hub.Publish("show");
        await using var harness = SessionHarness.Start(hub: hub);
        var streamId = await harness.ConnectAndCreateStreamAsync();
        using var timeout = new CancellationTokenSource(SessionHarness.Timeout);
        var reset = await harness.Client.PlayAsync(streamId, "show", timeout.Token);
        var start = await harness.Client.WaitForStatusAsync(timeout.Token);
        var access = await ReadUntilAsync(harness, m => m.Type == RtmpMessageType.DataAmf0, timeout.Token);
        var reader = new Amf0Reader(access);
        var name = reader.ReadString();

        Assert.Multiple(() =>
        {
            Assert.That(reset["code"], Is.EqualTo("NetStream.Play.Reset"));
            Assert.That(start["code"], Is.EqualTo("NetStream.Play.Start"));
            Assert.That(name, Is.EqualTo("|RtmpSampleAccess"));
            Assert.That(hub.Find("show")!.SubscriberCount, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task Play_MissingStream_SeesStreamNotFoundAndConnectionCloses()
    {
        await using var harness = SessionHarness.Start();
        var streamId = await harness.ConnectAndCreateStreamAsync();
        using var timeout = new CancellationTokenSource(SessionHarness.Timeout);
        var status = await harness.Client.PlayAsync(streamId, "nothing", timeout.Token);
        Assert.That(status["code"], Is.EqualTo("NetStream.Play.StreamNotFound"));
        Assert.That(await DrainUntilClosedAsync(harness), Is.True);
        await harness.WaitForEndAsync();
    }

    [Test]
    public async Task Handshake_Truncated_TimesOut()
    {
        await using var harness = SessionHarness.Start(configure: o => o.HandshakeTimeout = TimeSpan.FromMilliseconds(200));
        await harness.Client.WriteRawAsync(new byte[] { 3, 0, 0, 0 }, CancellationToken.None);
        await harness.WaitForEndAsync();
        AssertEndedWith(harness, RtmpProtocolError.HandshakeTimeout);
    }

    [Test]
    public async Task Handshake_GarbageVersion_EndsWithUnsupportedVersion()
    {
        await using var harness = SessionHarness.Start();
        await harness.Client.WriteRawAsync("GET / HTTP/1.1\r\n"u8.ToArray(), CancellationToken.None);
        await harness.WaitForEndAsync();
        AssertEndedWith(harness, RtmpProtocolError.UnsupportedHandshakeVersion);
    }

    [Test]
    public async Task Handshake_ValidPrefixThenClosed_EndsIncomplete()
    {
        await using var harness = SessionHarness.Start();
        await harness.Client.WriteRawAsync(new byte[] { 3, 1, 2, 3 }, CancellationToken.None);
        await harness.Client.DisposeAsync();
        await harness.WaitForEndAsync();
        AssertEndedWith(harness, RtmpProtocolError.HandshakeIncomplete);
    }

    [TestCase(8, TestName = "Handshake_DigestC1_ServerRepliesWithValidS2")]
    [TestCase(772, TestName = "Handshake_DigestC1Schema1_ServerRepliesWithValidS2")]
    public async Task Handshake_DigestC1_ServerRepliesWithValidS2(int schemaBase)
    {
        await using var harness = SessionHarness.Start();
        using var timeout = new CancellationTokenSource(SessionHarness.Timeout);
        var c1 = HandshakeTests.DigestC1(schemaBase, out var c1DigestOffset);
        await harness.Client.WriteRawAsync(new byte[] { 3 }.Concat(c1).ToArray(), timeout.Token);

        // S0 S1 S2 off the session's wire, checked as the golden handshake tests check RtmpHandshake's.
        var reply = await harness.ReadRawAsync(1 + (2 * RtmpHandshake.PacketSize), timeout.Token);
        HandshakeTests.AssertDigestReply(c1, c1DigestOffset, schemaBase, reply);

        // C2 echoes S1; the session then takes a connect on the same connection.
        await harness.Client.WriteRawAsync(reply.AsMemory(1, RtmpHandshake.PacketSize), timeout.Token);
        var connect = await harness.Client.ConnectAsync("live", "rtmp://localhost/live", timeout.Token);
        Assert.That(connect?["code"], Is.EqualTo("NetConnection.Connect.Success"));
        Assert.That(harness.Run.IsCompleted, Is.False);
    }

    // After the handshake: 0xC5 = fmt 3 on a fresh chunk stream 5
    [TestCase("C5000000", RtmpProtocolError.NoPreviousHeader, TestName = "Session_GarbageAfterHandshake_EndsWithNoPreviousHeader")]
    // fmt 0 csid 4 with length 0xFFFFFF over the 1 MiB limit configured below
    [TestCase("04000000FFFFFF0901000000", RtmpProtocolError.MessageTooLarge, TestName = "Session_LyingLength_EndsWithMessageTooLarge")]
    // Set Chunk Size 0x7FFFFFFF
    [TestCase("020000000000040100000000" + "7FFFFFFF", RtmpProtocolError.ChunkSizeTooLarge, TestName = "Session_AbsurdChunkSize_EndsWithChunkSizeTooLarge")]
    // fmt 2 on a fresh chunk stream 9
    [TestCase("89000010", RtmpProtocolError.NoPreviousHeader, TestName = "Session_ChunkStreamWithoutHeader_EndsWithNoPreviousHeader")]
    public async Task Session_MalformedChunks_EndOnlyThatSession(string hex, RtmpProtocolError reason)
    {
        var hub = new StreamHub();
        using var other = hub.Publish("other"); // an unrelated stream that must survive
        await using var harness = SessionHarness.Start(configure: o => o.MaxIncomingMessageSize = 1024 * 1024, hub: hub);
        using var timeout = new CancellationTokenSource(SessionHarness.Timeout);
        await harness.Client.HandshakeAsync(timeout.Token);
        var bytes = Convert.FromHexString(hex);
        await harness.Client.WriteRawAsync(bytes, timeout.Token);
        await harness.WaitForEndAsync();
        AssertEndedWith(harness, reason);
        Assert.That(hub.Find("other")!.IsEnded, Is.False);
    }

    [Test]
    public async Task Session_DeeplyNestedAmf_EndsWithInvalidCommand()
    {
        await using var harness = SessionHarness.Start();
        using var timeout = new CancellationTokenSource(SessionHarness.Timeout);
        await harness.Client.HandshakeAsync(timeout.Token);

        // "connect", 1, then 100 nested objects {a: {a: ...}}
        var body = new List<byte>(RtmpCommand.Encode("connect", 1, null)[..^1]);
        for (var i = 0; i < 100; i++)
        {
            body.AddRange([0x03, 0x00, 0x01, (byte)'a']);
        }

        body.Add(0x05);
        for (var i = 0; i < 100; i++)
        {
            body.AddRange([0x00, 0x00, 0x09]);
        }

        await harness.Client.WriteMessageAsync(RtmpMessageType.CommandAmf0, 0, 0, body.ToArray(), timeout.Token);
        await harness.WaitForEndAsync();
        AssertEndedWith(harness, RtmpProtocolError.InvalidCommand);
    }

    [Test]
    public async Task Publish_IdlePublisher_IsClosed()
    {
        await using var harness = SessionHarness.Start(configure: o => o.PublisherIdleTimeout = TimeSpan.FromMilliseconds(300));
        var streamId = await harness.ConnectAndCreateStreamAsync();
        using var timeout = new CancellationTokenSource(SessionHarness.Timeout);
        await harness.Client.PublishAsync(streamId, "idle", timeout.Token);
        await harness.WaitForEndAsync();
        AssertEndedWith(harness, RtmpProtocolError.IdleTimeout);
        var stream = harness.Hub.Find("idle");
        Assert.That(stream, Is.Not.Null, "a timed-out publisher is a lost connection, not a clean end");
        Assert.That(stream!.IsWaitingForReconnect, Is.True, "the stream waits for the encoder to come back");
    }

    [Test]
    public async Task Publish_SendingMoreOftenThanTheIdleTimeout_StaysOpen()
    {
        // The idle timer is re-armed at most every eighth of the timeout: steady data must keep re-arming it.
        await using var harness = SessionHarness.Start(configure: o => o.PublisherIdleTimeout = TimeSpan.FromMilliseconds(400));
        var streamId = await harness.ConnectAndCreateStreamAsync();
        using var timeout = new CancellationTokenSource(SessionHarness.Timeout);
        await harness.Client.PublishAsync(streamId, "steady", timeout.Token);
        for (var i = 0; i < 15; i++)
        {
            await harness.Client.WriteMessageAsync(RtmpMessageType.Audio, (uint)(i * 100), (uint)streamId, new byte[] { 0xAF, 0x01, 0x21 }, timeout.Token);
            await Task.Delay(100);
        }

        Assert.That(harness.Run.IsCompleted, Is.False, "1.5 s of audio every 100 ms with a 400 ms idle timeout");
        await harness.WaitForEndAsync();
        AssertEndedWith(harness, RtmpProtocolError.IdleTimeout);
    }

    [Test]
    public async Task Connect_ThenSilence_IsClosedByIdleTimeout()
    {
        await using var harness = SessionHarness.Start(configure: o => o.PublisherIdleTimeout = TimeSpan.FromMilliseconds(300));
        await harness.ConnectAndCreateStreamAsync();
        await harness.WaitForEndAsync();
        AssertEndedWith(harness, RtmpProtocolError.IdleTimeout);
    }

    [Test]
    public async Task Play_AcceptedPlayer_KeepsThePreSessionChunkStreamBudget()
    {
        // A player only sends control messages and small commands: it does not get a publisher's 1024 chunk streams
        // and 64 MiB (anyone may play a public stream; each connection would pin them).
        var hub = new StreamHub();
        using var publisher = hub.Publish("show");
        await using var harness = SessionHarness.Start(hub: hub);
        var streamId = await harness.ConnectAndCreateStreamAsync();
        using var timeout = new CancellationTokenSource(SessionHarness.Timeout);
        await harness.Client.PlayAsync(streamId, "show", timeout.Token);
        var flood = new List<byte>();
        for (var csid = 400; csid < 400 + 9; csid++)
        {
            var rest = csid - 64;
            flood.AddRange([0x01, (byte)rest, (byte)(rest >> 8)]);
            flood.AddRange(Convert.FromHexString("000000" + "000000" + "08" + "01000000"));
        }

        await harness.Client.WriteRawAsync(flood.ToArray(), timeout.Token);
        await harness.WaitForEndAsync();
        AssertEndedWith(harness, RtmpProtocolError.TooManyChunkStreams);
    }

    [Test]
    public async Task KeyInTheApplicationName_IsNeverLogged()
    {
        // An encoder set up with the whole URL as its server (rtmp://host/live/KEY) and an empty key sends the key as app.
        const string key = "f3b9c2d47a1e4c0b9d8e7f6a5b4c3d2e";
        await using var harness = SessionHarness.Start();
        var streamId = await harness.ConnectAndCreateStreamAsync(app: "live/" + key);
        using var timeout = new CancellationTokenSource(SessionHarness.Timeout);
        await harness.Client.PublishAsync(streamId, "", timeout.Token);
        Assert.That(harness.Logger.Entries.Select(e => e.Message), Has.Some.Contains("sha256:"), "the app is logged, hashed");
        Assert.That(harness.Logger.Entries.Select(e => e.Message), Has.None.Contains(key));
    }

    [Test]
    public async Task Play_SilentPlayer_IsNotClosedByIdleTimeout()
    {
        var hub = new StreamHub();
        using var publisher = hub.Publish("show");
        await using var harness = SessionHarness.Start(configure: o => o.PublisherIdleTimeout = TimeSpan.FromMilliseconds(200), hub: hub);
        var streamId = await harness.ConnectAndCreateStreamAsync();
        using var timeout = new CancellationTokenSource(SessionHarness.Timeout);
        await harness.Client.PlayAsync(streamId, "show", timeout.Token);
        await Task.Delay(600);
        Assert.That(harness.Run.IsCompleted, Is.False);
    }

    [Test]
    public async Task Publish_DeleteStream_EndsTheStream()
    {
        await using var harness = SessionHarness.Start();
        var streamId = await harness.ConnectAndCreateStreamAsync();
        using var timeout = new CancellationTokenSource(SessionHarness.Timeout);
        await harness.Client.PublishAsync(streamId, "gone", timeout.Token);
        await harness.Client.SendCommandAsync(0, "FCUnpublish", 5, null, ["gone"], timeout.Token);
        await harness.Client.SendCommandAsync(0, "deleteStream", 6, null, [(double)streamId], timeout.Token);
        await harness.Client.WaitForCommandAsync(c => c.TransactionId == 5, timeout.Token);
        var deadline = DateTime.UtcNow + SessionHarness.Timeout;
        while (harness.Hub.Find("gone") is not null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        Assert.That(harness.Hub.Find("gone"), Is.Null);
    }

    [Test]
    public async Task Publish_MediaMessages_ReachTheHubWithExtendedTimestamps()
    {
        await using var harness = SessionHarness.Start();
        var streamId = await harness.ConnectAndCreateStreamAsync();
        using var timeout = new CancellationTokenSource(SessionHarness.Timeout);
        await harness.Client.PublishAsync(streamId, "media", timeout.Token);
        var stream = harness.Hub.Find("media")!;
        using var subscription = stream.Subscribe(replayGop: false);

        // AAC sequence header (AudioSpecificConfig 1210 = AAC-LC 44.1 kHz stereo), then raw frames whose 32-bit
        // timestamps wrap past 0xFFFFFFFF.
        await harness.Client.WriteMessageAsync(RtmpMessageType.Audio, 0xFFFFFF00, streamId, new byte[] { 0xAF, 0x00, 0x12, 0x10 }, timeout.Token);
        await harness.Client.WriteMessageAsync(RtmpMessageType.Audio, 0xFFFFFFF0, streamId, new byte[] { 0xAF, 0x01, 0x21, 0x00 }, timeout.Token);
        await harness.Client.WriteMessageAsync(RtmpMessageType.Audio, 0x00000010, streamId, new byte[] { 0xAF, 0x01, 0x21, 0x00 }, timeout.Token);

        var timestamps = new List<long>();
        while (timestamps.Count < 3 && await subscription.WaitToReadAsync(timeout.Token))
        {
            while (subscription.TryRead(out var frame))
            {
                timestamps.Add(frame.Timestamp);
                frame.Payload.Release();
            }
        }

        Assert.That(timestamps, Is.EqualTo(new long[] { 0xFFFFFF00L, 0xFFFFFFF0L, 0x100000010L }));
    }

    [Test]
    public async Task Publish_AggregateMessage_EverySubMessageReachesTheHubOnTheAggregatesTimeline()
    {
        await using var harness = SessionHarness.Start();
        var streamId = await harness.ConnectAndCreateStreamAsync();
        using var timeout = new CancellationTokenSource(SessionHarness.Timeout);
        await harness.Client.PublishAsync(streamId, "aggregated", timeout.Token);
        var stream = harness.Hub.Find("aggregated")!;
        using var subscription = stream.Subscribe(replayGop: false);

        // A relay's aggregate: sub-message timestamps on its own clock (5000...), the aggregate's at 1000.
        var aggregate = RtmpAggregateTests.Aggregate(true,
            (RtmpMessageType.Audio, 5000, [0xAF, 0x00, 0x12, 0x10]),
            (RtmpMessageType.Audio, 5000, [0xAF, 0x01, 0x21, 0x00]),
            (RtmpMessageType.SharedObjectAmf0, 5010, [1, 2, 3]), // not media: skipped
            (RtmpMessageType.Audio, 5023, [0xAF, 0x01, 0x21, 0x01]));
        await harness.Client.WriteMessageAsync(RtmpMessageType.Aggregate, 1000, streamId, aggregate, timeout.Token);
        // A malformed one (its only sub-message runs past the end) is dropped and logged; the session goes on.
        await harness.Client.WriteMessageAsync(RtmpMessageType.Aggregate, 1100, streamId, aggregate.AsSpan(0, 14).ToArray(), timeout.Token);
        await harness.Client.WriteMessageAsync(RtmpMessageType.Audio, 1046, streamId, new byte[] { 0xAF, 0x01, 0x21, 0x02 }, timeout.Token);

        var frames = new List<(long Timestamp, bool Config, byte Last)>();
        while (frames.Count < 4 && await subscription.WaitToReadAsync(timeout.Token))
        {
            while (subscription.TryRead(out var frame))
            {
                frames.Add((frame.Timestamp, frame.IsConfig, frame.Span[^1]));
                frame.Payload.Release();
            }
        }

        Assert.That(frames, Is.EqualTo(new[] { (1000L, true, (byte)0x10), (1000L, false, (byte)0x00), (1023L, false, (byte)0x01), (1046L, false, (byte)0x02) }));
        Assert.That(harness.Session.ProtocolError, Is.Null);
        Assert.That(harness.Logger.Warnings, Has.Some.Contains("malformed"));
    }

    private static void AssertEndedWith(SessionHarness harness, RtmpProtocolError reason)
    {
        Assert.Multiple(() =>
        {
            Assert.That(harness.Session.ProtocolError, Is.EqualTo(reason));
            var warnings = harness.Logger.Warnings;
            Assert.That(warnings, Has.Count.EqualTo(1), string.Join(Environment.NewLine, warnings));
            Assert.That(warnings.Count > 0 ? warnings[0] : string.Empty, Does.Contain(reason.ToString()));
        });
    }

    private static async Task<byte[]> ReadUntilAsync(SessionHarness harness, Func<RtmpMessage, bool> predicate, CancellationToken cancellationToken)
    {
        while (true)
        {
            var message = await harness.Client.ReadMessageAsync(cancellationToken) ?? throw new InvalidOperationException("closed");
            try
            {
                if (predicate(message))
                {
                    return message.Span.ToArray();
                }
            }
            finally
            {
                message.Payload.Release();
            }
        }
    }

    private static async Task<bool> DrainUntilClosedAsync(SessionHarness harness)
    {
        using var timeout = new CancellationTokenSource(SessionHarness.Timeout);
        while (await harness.Client.ReadMessageAsync(timeout.Token) is { } message)
        {
            message.Payload.Release();
        }

        return true;
    }
}
