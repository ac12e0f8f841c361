using System.IO.Pipelines;
using MediaServer.Core.Media;
using MediaServer.Core.Streams;
using MediaServer.Rtmp;
using MediaServer.Rtmp.Client;
using MediaServer.Rtmp.Messages;
using MediaServer.Rtmp.Session;
using MediaServer.Tests.Infrastructure;
using MediaServer.Tests.Rtmp.Infrastructure;

namespace MediaServer.Tests.Rtmp;

/// <summary>
/// <see cref="RtmpPublishClient"/> against our own <see cref="RtmpServerSession"/> over in-memory pipes, and
/// against a scripted server for refusals, timeouts and the exact bytes it sends.
/// </summary>
[TestFixture]
public class RtmpPublishClientTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    // AVCDecoderConfigurationRecord head (version 1, High, level 3.1, 4-byte lengths, 1 SPS) and AAC-LC 44.1 kHz stereo.
    private static readonly byte[] AvcRecord = [0x01, 0x64, 0x00, 0x1F, 0xFF, 0xE1];
    private static readonly byte[] AacConfig = [0x12, 0x10];

    // AMF0 "onMetaData" then an ECMA array with 0 entries and the object end marker.
    private static readonly byte[] OnMetaData = [0x02, 0x00, 0x0A, .. "onMetaData"u8, 0x08, 0, 0, 0, 0, 0, 0, 9];

    private static RtmpClientOptions Options => new()
    {
        ConnectTimeout = TimeSpan.FromSeconds(2),
        HandshakeTimeout = TimeSpan.FromSeconds(2),
        CommandTimeout = TimeSpan.FromSeconds(2),
    };

    [TestCase("rtmp://a.rtmp.youtube.com/live2", "k", false, "a.rtmp.youtube.com", 1935, "live2", "rtmp://a.rtmp.youtube.com/live2")]
    [TestCase("rtmps://live-api-s.facebook.com:443/rtmp/", "FB-1", true, "live-api-s.facebook.com", 443, "rtmp", "rtmps://live-api-s.facebook.com:443/rtmp")]
    [TestCase("rtmps://example.com/app", "k", true, "example.com", 443, "app", "rtmps://example.com/app")]
    [TestCase("rtmp://127.0.0.1:19350/app/inst", "k", false, "127.0.0.1", 19350, "app/inst", "rtmp://127.0.0.1:19350/app/inst")]
    [TestCase("rtmp://live.twitch.tv/app?bandwidthtest=true", "live_1", false, "live.twitch.tv", 1935, "app?bandwidthtest=true", "rtmp://live.twitch.tv/app?bandwidthtest=true")]
    [TestCase("rtmp://[::1]:1936/live", "k", false, "::1", 1936, "live", "rtmp://[::1]:1936/live")]
    public void Parse_ServiceUrls_SplitIntoHostPortAppAndTcUrl(string url, string key, bool tls, string host, int port, string app, string tcUrl)
    {
        var target = RtmpPublishTarget.Parse(url, key);
        Assert.Multiple(() =>
        {
            Assert.That(target.UseTls, Is.EqualTo(tls));
            Assert.That(target.Host, Is.EqualTo(host));
            Assert.That(target.Port, Is.EqualTo(port));
            Assert.That(target.App, Is.EqualTo(app));
            Assert.That(target.TcUrl, Is.EqualTo(tcUrl));
            Assert.That(target.StreamKey, Is.EqualTo(key));
            Assert.That(target.ToString(), Does.Not.Contain(key), "the key is a credential");
        });
    }

    [TestCase("http://example.com/live", "k")]
    [TestCase("rtmp://example.com", "k")]
    [TestCase("rtmp://example.com/live", "")]
    [TestCase("not a url", "k")]
    public void Parse_UnusableUrl_ThrowsFormatException(string url, string key) =>
        Assert.Throws<FormatException>(() => RtmpPublishTarget.Parse(url, key));

    [Test]
    public async Task Publish_ToOurServerSession_FramesReachTheHubRelativeToTheFirstFrame()
    {
        var hub = new StreamHub();
        await using var pair = ServerPair.Start(hub);
        using var timeout = new CancellationTokenSource(Timeout);
        await using var client = await RtmpPublishClient.StartAsync(pair.ClientTransport, RtmpPublishTarget.Parse("rtmp://127.0.0.1/live", "restreamed"), Options, timeout.Token);

        var stream = hub.Find("restreamed");
        Assert.That(stream, Is.Not.Null, "publish started on the server");
        using var subscription = stream!.Subscribe(replayGop: false);

        // Source timeline starts at 60 000 ms (a late joiner); configs carry older timestamps.
        (MediaKind, MediaCodec, FrameFlags, long, int, byte[])[] sent =
        [
            (MediaKind.Data, MediaCodec.Script, FrameFlags.None, 0, 0, OnMetaData),
            (MediaKind.Video, MediaCodec.H264, FrameFlags.Keyframe | FrameFlags.Config, 10, 0, AvcRecord),
            (MediaKind.Audio, MediaCodec.Aac, FrameFlags.Config, 10, 0, AacConfig),
            (MediaKind.Video, MediaCodec.H264, FrameFlags.Keyframe, 60_000, 66, [0, 0, 0, 2, 0x65, 0x88]),
            (MediaKind.Audio, MediaCodec.Aac, FrameFlags.None, 60_010, 0, [0x21, 0x00]),
            (MediaKind.Video, MediaCodec.H264, FrameFlags.None, 60_033, -33, [0, 0, 0, 2, 0x41, 0x9A]),
        ];
        foreach (var (kind, codec, flags, ts, cts, payload) in sent)
        {
            var frame = MediaTestData.Frame(kind, codec, flags, ts, cts, payload);
            try
            {
                await client.WriteAsync(frame, timeout.Token);
            }
            finally
            {
                frame.Payload.Release();
            }
        }

        var received = await ReadAsync(subscription, sent.Length, timeout.Token);
        Assert.That(received, Is.EqualTo(new[]
        {
            "Data Script None 0 0 " + Convert.ToHexString(OnMetaData),
            "Video H264 Keyframe, Config 0 0 " + Convert.ToHexString(AvcRecord),
            "Audio Aac Config 0 0 " + Convert.ToHexString(AacConfig),
            "Video H264 Keyframe 0 66 000000026588",
            "Audio Aac None 10 0 2100",
            "Video H264 None 33 -33 00000002419A",
        }));
        Assert.That(client.Completion.IsCompleted, Is.False, "the read loop is still running");
    }

    [Test]
    public async Task Publish_TimestampsPast32Bits_WrapOnTheWireAndExtendOnTheServer()
    {
        var hub = new StreamHub();
        await using var pair = ServerPair.Start(hub);
        using var timeout = new CancellationTokenSource(Timeout);
        await using var client = await RtmpPublishClient.StartAsync(pair.ClientTransport, RtmpPublishTarget.Parse("rtmp://127.0.0.1/live", "wrap"), Options, timeout.Token);
        using var subscription = hub.Find("wrap")!.Subscribe(replayGop: false);

        // Steps under 2^31 so the receiver can tell forward from backward (serial-number arithmetic).
        long[] timestamps = [5_000, 5_000 + 0x7000_0000L, 5_000 + 0xE000_0000L, 5_000 + 0x1_5000_0000L];
        foreach (var ts in timestamps)
        {
            var frame = MediaTestData.Frame(MediaKind.Audio, MediaCodec.Aac, FrameFlags.None, ts, 0, [0x21, 0x00]);
            await client.WriteAsync(frame, timeout.Token);
            frame.Payload.Release();
        }

        var received = await ReadAsync(subscription, timestamps.Length, timeout.Token);
        Assert.That(received.Select(r => long.Parse(r.Split(' ')[3], System.Globalization.CultureInfo.InvariantCulture)),
            Is.EqualTo(new[] { 0, 0x7000_0000L, 0xE000_0000L, 0x1_5000_0000L }));
    }

    [Test]
    public async Task Publish_ResolverRefuses_FailsWithBadNameAndTheServersDescription()
    {
        var resolver = new ScriptedResolver(_ => StreamResolution.Refuse(StreamRefusal.BadName, "No such stream key."));
        await using var pair = ServerPair.Start(new StreamHub(), resolver);
        using var timeout = new CancellationTokenSource(Timeout);
        var ex = Assert.ThrowsAsync<RtmpProtocolException>(async () =>
            await RtmpPublishClient.StartAsync(pair.ClientTransport, RtmpPublishTarget.Parse("rtmp://127.0.0.1/live", "bad"), Options, timeout.Token));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Reason, Is.EqualTo(RtmpProtocolError.Rejected));
            Assert.That(ex.Message, Does.Contain("NetStream.Publish.BadName").And.Contain("No such stream key."));
        });
    }

    [Test]
    public async Task Connect_ServerAnswersError_FailsWithTheCodeAndDescription()
    {
        await using var server = new FakeRtmpServer(FakeServerMode.RejectConnect);
        using var timeout = new CancellationTokenSource(Timeout);
        var ex = Assert.ThrowsAsync<RtmpProtocolException>(async () =>
            await RtmpPublishClient.StartAsync(server.ClientTransport, RtmpPublishTarget.Parse("rtmp://127.0.0.1/nope", "k"), Options, timeout.Token));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Reason, Is.EqualTo(RtmpProtocolError.Rejected));
            Assert.That(ex.Message, Is.EqualTo("connect refused by the server: NetConnection.Connect.Rejected: Invalid app name."));
        });
    }

    [Test]
    public async Task Publish_ServerSendsBadName_FailsWithRejected()
    {
        await using var server = new FakeRtmpServer(FakeServerMode.RejectPublish);
        using var timeout = new CancellationTokenSource(Timeout);
        var ex = Assert.ThrowsAsync<RtmpProtocolException>(async () =>
            await RtmpPublishClient.StartAsync(server.ClientTransport, RtmpPublishTarget.Parse("rtmp://127.0.0.1/live", "k"), Options, timeout.Token));
        Assert.That(ex!.Message, Is.EqualTo("publish refused by the server: NetStream.Publish.BadName: Stream key is not valid."));
    }

    [Test]
    public async Task Connect_ServerNeverAnswers_TimesOutWithinTheCommandTimeout()
    {
        await using var server = new FakeRtmpServer(FakeServerMode.SilentAfterHandshake);
        var options = Options;
        options.CommandTimeout = TimeSpan.FromMilliseconds(300);
        var started = System.Diagnostics.Stopwatch.StartNew();
        var ex = Assert.ThrowsAsync<RtmpProtocolException>(async () =>
            await RtmpPublishClient.StartAsync(server.ClientTransport, RtmpPublishTarget.Parse("rtmp://127.0.0.1/live", "k"), options, CancellationToken.None));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Reason, Is.EqualTo(RtmpProtocolError.CommandTimeout));
            Assert.That(ex.Message, Does.Contain("connect"));
            Assert.That(started.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
        });
    }

    [Test]
    public async Task Publish_CommandFlow_IsLikeFfmpegAndObs()
    {
        await using var server = new FakeRtmpServer(FakeServerMode.Accept);
        using var timeout = new CancellationTokenSource(Timeout);
        await using var client = await RtmpPublishClient.StartAsync(server.ClientTransport, RtmpPublishTarget.Parse("rtmp://example.com:1936/live2/inst", "key-1"), Options, timeout.Token);
        await WaitUntilAsync(() => server.Commands.Count >= 5, timeout.Token);

        var commands = server.Commands.ToArray();
        Assert.That(commands.Select(c => c.Name), Is.EqualTo(new[] { "connect", "releaseStream", "FCPublish", "createStream", "publish" }));
        var connect = commands[0].GetObjectArgument(-1)!;
        Assert.Multiple(() =>
        {
            Assert.That(connect["app"], Is.EqualTo("live2/inst"));
            Assert.That(connect["tcUrl"], Is.EqualTo("rtmp://example.com:1936/live2/inst"));
            Assert.That(connect["type"], Is.EqualTo("nonprivate"));
            Assert.That(commands[1].GetStringArgument(0), Is.EqualTo("key-1"));
            Assert.That(commands[2].GetStringArgument(0), Is.EqualTo("key-1"));
            Assert.That(commands[4].Arguments, Is.EqualTo(new object[] { "key-1", "live" }));
        });

        // Set Chunk Size 4096 right after connect, before releaseStream.
        var messages = server.Messages.ToArray();
        var setChunk = Array.FindIndex(messages, m => m.Type == RtmpMessageType.SetChunkSize);
        var release = Array.FindIndex(messages, m => m.Type == RtmpMessageType.CommandAmf0 && RtmpCommand.Parse(m.Payload, false).Name == "releaseStream");
        Assert.That(setChunk, Is.GreaterThan(0).And.LessThan(release));
        Assert.That(Convert.ToHexString(messages[setChunk].Payload), Is.EqualTo("00001000"));
    }

    [Test]
    public async Task Publish_ServerWindow_IsAcknowledgedWithTheByteCount()
    {
        await using var server = new FakeRtmpServer(FakeServerMode.Accept);
        using var timeout = new CancellationTokenSource(Timeout);
        await using var client = await RtmpPublishClient.StartAsync(server.ClientTransport, RtmpPublishTarget.Parse("rtmp://127.0.0.1/live", "k"), Options, timeout.Token);

        // A 100-byte window, then pings (each 6 + 12 header bytes) until the client has received past it.
        await server.SendControlAsync(RtmpMessageType.WindowAcknowledgementSize, ProtocolControl.WindowAcknowledgementSize(100));
        for (var i = 0; i < 8; i++)
        {
            await server.SendControlAsync(RtmpMessageType.UserControl, UserControlEvent.PingRequest((uint)i).ToPayload());
        }

        await WaitUntilAsync(() => server.Messages.Any(m => m.Type == RtmpMessageType.Acknowledgement), timeout.Token);
        var ack = server.Messages.First(m => m.Type == RtmpMessageType.Acknowledgement);
        var count = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(ack.Payload);
        Assert.That(count, Is.GreaterThan(3073u + 100), "handshake bytes plus at least one window");
        await WaitUntilAsync(() => server.Messages.Count(m => m.Type == RtmpMessageType.UserControl) >= 8, timeout.Token);
    }

    [Test]
    public async Task Publish_ServerClosesAfterStart_CompletionFaults()
    {
        var server = new FakeRtmpServer(FakeServerMode.Accept);
        using var timeout = new CancellationTokenSource(Timeout);
        await using var client = await RtmpPublishClient.StartAsync(server.ClientTransport, RtmpPublishTarget.Parse("rtmp://127.0.0.1/live", "k"), Options, timeout.Token);
        await server.DisposeAsync();
        var ex = Assert.ThrowsAsync<RtmpProtocolException>(async () => await client.Completion.WaitAsync(Timeout));
        Assert.That(ex!.Reason, Is.EqualTo(RtmpProtocolError.ConnectionClosed));
    }

    [Test]
    public async Task WriteAsync_SteadyState_AllocatesNothing()
    {
        await using var server = new FakeRtmpServer(FakeServerMode.AcceptThenStop, pauseWriterThreshold: 0);
        using var timeout = new CancellationTokenSource(Timeout);
        await using var client = await RtmpPublishClient.StartAsync(server.ClientTransport, RtmpPublishTarget.Parse("rtmp://127.0.0.1/live", "k"), Options, timeout.Token);
        await server.Run.WaitAsync(Timeout);

        var video = MediaTestData.Frame(MediaKind.Video, MediaCodec.H264, FrameFlags.None, 0, 33, new byte[5000]);
        var audio = MediaTestData.Frame(MediaKind.Audio, MediaCodec.Aac, FrameFlags.None, 0, 0, new byte[300]);
        try
        {
            WriteFrames(client, server.FromClient, video, audio, 200); // warm up (buffers, chunk stream state)
            var before = GC.GetAllocatedBytesForCurrentThread();
            WriteFrames(client, server.FromClient, video, audio, 500);
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.That(allocated, Is.Zero);
        }
        finally
        {
            video.Payload.Release();
            audio.Payload.Release();
        }
    }

    private static void WriteFrames(RtmpPublishClient client, PipeReader drain, MediaFrame video, MediaFrame audio, int count)
    {
        for (var i = 0; i < count; i++)
        {
            var frame = (i % 2 == 0 ? video : audio).WithTimestamp(i * 20L);
            var write = client.WriteAsync(frame, CancellationToken.None);
            if (!write.IsCompletedSuccessfully)
            {
                Assert.Fail("write did not complete synchronously");
            }

            if (drain.TryRead(out var result))
            {
                drain.AdvanceTo(result.Buffer.End);
            }
        }
    }

    private static async Task<List<string>> ReadAsync(Subscription subscription, int count, CancellationToken cancellationToken)
    {
        var received = new List<string>();
        while (received.Count < count && await subscription.WaitToReadAsync(cancellationToken))
        {
            while (subscription.TryRead(out var frame))
            {
                received.Add($"{frame.Kind} {frame.Codec} {frame.Flags} {frame.Timestamp} {frame.CompositionTime} {Convert.ToHexString(frame.Span)}");
                frame.Payload.Release();
            }
        }

        return received;
    }

    private static async Task WaitUntilAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        while (!condition())
        {
            await Task.Delay(10, cancellationToken);
        }
    }

    /// <summary>Our server session on one end of an in-memory pipe pair; the client gets the other end.</summary>
    private sealed class ServerPair : IAsyncDisposable
    {
        private readonly CancellationTokenSource _cts = new();

        private ServerPair(StreamHub hub, IStreamResolver resolver)
        {
            var toServer = new Pipe(new PipeOptions(useSynchronizationContext: false));
            var toClient = new Pipe(new PipeOptions(useSynchronizationContext: false));
            var session = new RtmpServerSession(new TestDuplexPipe(toServer.Reader, toClient.Writer), hub, resolver, new RtmpServerOptions(), new ListLogger(), "127.0.0.1:5000");
            ClientTransport = new TestDuplexPipe(toClient.Reader, toServer.Writer);
            Run = Task.Run(() => session.RunAsync(_cts.Token));
        }

        public IDuplexPipe ClientTransport { get; }

        public Task Run { get; }

        public static ServerPair Start(StreamHub hub, IStreamResolver? resolver = null) => new(hub, resolver ?? new OpenStreamResolver());

        public async ValueTask DisposeAsync()
        {
            await _cts.CancelAsync();
            await Run.WaitAsync(Timeout);
            _cts.Dispose();
        }
    }
}
