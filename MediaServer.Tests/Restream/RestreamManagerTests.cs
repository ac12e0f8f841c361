using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using MediaServer.Core.Media;
using MediaServer.Core.Streams;
using MediaServer.Host.Configuration;
using MediaServer.Host.Data;
using MediaServer.Host.Egress;
using MediaServer.Host.Restream;
using MediaServer.Rtmp.Session;
using MediaServer.Tests.Infrastructure;
using MediaServer.Tests.Rtmp.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MediaServer.Tests.Restream;

/// <summary>
/// <see cref="RestreamManager"/> in process: a source hub with a publisher, a real livestream store, and an
/// in-process RTMP server (our session over loopback TCP) as the target.
/// </summary>
[TestFixture]
[NonParallelizable]
public class RestreamManagerTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    [Test]
    public async Task Patch_AddAndRemoveTargetsWhileLive_LeavesTheOthersRunning()
    {
        using var folder = MediaTestData.TempDirectory("restream-manager");
        var database = new Database(folder);
        await database.MigrateAsync();
        var store = new LivestreamStore(database, TimeProvider.System);
        var apiKey = (await new ApiKeyStore(database, TimeProvider.System).CreateAsync("test")).ApiKey;
        var hub = new StreamHub();
        await using var target = LoopbackRtmpServer.Start();
        var options = Options.Create(new MediaServerOptions { Restream = new RestreamOptions { ConnectTimeoutSeconds = 2, AllowPrivateNetworks = true } });
        await using var manager = new RestreamManager(hub, store, options, OutboundAddressPolicy.ForRestream(options), NullLoggerFactory.Instance, TimeProvider.System);
        await manager.StartAsync(CancellationToken.None);

        var a = new RestreamTarget($"rtmp://127.0.0.1:{target.Port}/live", "a");
        var dead = new RestreamTarget($"rtmp://127.0.0.1:{FreePort.Next()}/live", "dead");
        var livestream = await store.CreateAsync(apiKey, "test", false, PlaybackPolicy.Public, [a]);
        Assert.That(manager.GetStatus(livestream.PlaybackId, livestream.Restream).Single().State, Is.EqualTo("idle"));

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var publisher = hub.Publish(livestream.PlaybackId);
        var publishing = Task.Run(() => PublishLoopAsync(publisher, cts.Token));
        try
        {
            await WaitUntilAsync(() => manager.GetStatus(livestream.PlaybackId, [a])[0].State == "live" && target.Hub.Find("a") is not null);
            var copy = target.Hub.Find("a")!;
            await WaitUntilAsync(() => copy.FramesIn > 10);

            // PATCH: add a dead target. The live one is not touched.
            livestream = await store.UpdateAsync(livestream with { Restream = [a, dead] });
            await WaitUntilAsync(() => manager.GetStatus(livestream.PlaybackId, livestream.Restream)[1].State == "error");
            var status = manager.GetStatus(livestream.PlaybackId, livestream.Restream);
            var before = copy.FramesIn;
            await WaitUntilAsync(() => copy.FramesIn > before + 10);
            Assert.Multiple(() =>
            {
                Assert.That(status[0].State, Is.EqualTo("live"));
                Assert.That(status[0].Reconnects, Is.Zero);
                Assert.That(target.Hub.Find("a"), Is.SameAs(copy), "the live target's publish was not restarted");
                Assert.That(status[1].LastError, Does.Contain("Connection refused by 127.0.0.1"));
            });

            // PATCH: remove the live target. Its publish ends on the target (FCUnpublish/deleteStream); the dead one goes on retrying.
            livestream = await store.UpdateAsync(livestream with { Restream = [dead] });
            await WaitUntilAsync(() => target.Hub.Find("a") is null);
            Assert.That(manager.GetStatus(livestream.PlaybackId, livestream.Restream)[0].State, Is.AnyOf("error", "connecting"));
        }
        finally
        {
            await cts.CancelAsync();
            await publishing;
            publisher.Unpublish();
        }

        await WaitUntilAsync(() => manager.GetStatus(livestream.PlaybackId, livestream.Restream)[0].State == "idle");
    }

    [Test]
    public async Task Disable_LiveLivestream_StopsItsWorkers()
    {
        using var folder = MediaTestData.TempDirectory("restream-disable");
        var database = new Database(folder);
        await database.MigrateAsync();
        var store = new LivestreamStore(database, TimeProvider.System);
        var apiKey = (await new ApiKeyStore(database, TimeProvider.System).CreateAsync("test")).ApiKey;
        var hub = new StreamHub();
        await using var target = LoopbackRtmpServer.Start();
        await using var manager = new RestreamManager(hub, store, Options.Create(new MediaServerOptions()), OutboundAddressPolicy.ForRestream(Options.Create(new MediaServerOptions { Restream = new RestreamOptions { AllowPrivateNetworks = true } })), NullLoggerFactory.Instance, TimeProvider.System);
        await manager.StartAsync(CancellationToken.None);
        var a = new RestreamTarget($"rtmp://127.0.0.1:{target.Port}/live", "b");
        var livestream = await store.CreateAsync(apiKey, "test", false, PlaybackPolicy.Public, [a]);

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var publisher = hub.Publish(livestream.PlaybackId);
        var publishing = Task.Run(() => PublishLoopAsync(publisher, cts.Token));
        try
        {
            await WaitUntilAsync(() => target.Hub.Find("b") is not null);
            await store.UpdateAsync(livestream with { Enabled = false });
            await WaitUntilAsync(() => target.Hub.Find("b") is null);
            Assert.That(manager.GetStatus(livestream.PlaybackId, [a])[0].State, Is.EqualTo("idle"));
        }
        finally
        {
            await cts.CancelAsync();
            await publishing;
            publisher.Unpublish();
        }
    }

    [Test]
    public async Task Target_HostNotAllowed_IsNeverContactedAndReportsWhy()
    {
        using var folder = MediaTestData.TempDirectory("restream-allowed");
        var database = new Database(folder);
        await database.MigrateAsync();
        var store = new LivestreamStore(database, TimeProvider.System);
        var apiKey = (await new ApiKeyStore(database, TimeProvider.System).CreateAsync("test")).ApiKey;
        var hub = new StreamHub();
        var options = Options.Create(new MediaServerOptions { Restream = new RestreamOptions { AllowedHosts = ["127.0.0.1"], AllowPrivateNetworks = true } });
        await using var manager = new RestreamManager(hub, store, options, OutboundAddressPolicy.ForRestream(options), NullLoggerFactory.Instance, TimeProvider.System);
        await manager.StartAsync(CancellationToken.None);
        var youtube = new RestreamTarget("rtmp://x.rtmp.youtube.com/live2", "0tjp-h6a2-8c9d-vusv-01uu");
        var livestream = await store.CreateAsync(apiKey, "test", false, PlaybackPolicy.Public, [youtube]);
        var publisher = hub.Publish(livestream.PlaybackId);
        try
        {
            await WaitUntilAsync(() => manager.GetStatus(livestream.PlaybackId, [youtube])[0].State == "error");
            Assert.That(manager.GetStatus(livestream.PlaybackId, [youtube])[0].LastError, Does.Contain("AllowedHosts"));
        }
        finally
        {
            publisher.Unpublish();
        }
    }

    // AVC config + AAC config, then 30 fps video with a keyframe every 10 frames, and audio.
    private static async Task PublishLoopAsync(Publisher publisher, CancellationToken cancellationToken)
    {
        Publish(publisher, MediaKind.Video, MediaCodec.H264, FrameFlags.Keyframe | FrameFlags.Config, 0, [0x01, 0x64, 0x00, 0x1F, 0xFF, 0xE1]);
        Publish(publisher, MediaKind.Audio, MediaCodec.Aac, FrameFlags.Config, 0, [0x12, 0x10]);
        for (var i = 0; !cancellationToken.IsCancellationRequested; i++)
        {
            var keyframe = i % 10 == 0;
            Publish(publisher, MediaKind.Video, MediaCodec.H264, keyframe ? FrameFlags.Keyframe : FrameFlags.None, i * 33L, keyframe ? [0, 0, 0, 2, 0x65, 0x88] : [0, 0, 0, 2, 0x41, 0x9A]);
            Publish(publisher, MediaKind.Audio, MediaCodec.Aac, FrameFlags.None, i * 33L, [0x21, 0x00]);
            try
            {
                await Task.Delay(33, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static void Publish(Publisher publisher, MediaKind kind, MediaCodec codec, FrameFlags flags, long timestamp, byte[] payload)
    {
        var frame = MediaTestData.Frame(kind, codec, flags, timestamp, 0, payload);
        publisher.Publish(frame);
        frame.Payload.Release();
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (stopwatch.Elapsed > Wait)
            {
                Assert.Fail($"condition not met within {Wait}");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Our RTMP server session behind a loopback TCP listener, in open mode, with its own hub.</summary>
    private sealed class LoopbackRtmpServer : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _cts = new();
        private readonly List<Task> _sessions = [];
        private Task _accept = Task.CompletedTask;

        public StreamHub Hub { get; } = new(new StreamHubOptions { ReconnectWindow = TimeSpan.Zero });

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public static LoopbackRtmpServer Start()
        {
            var server = new LoopbackRtmpServer();
            server._listener.Start();
            server._accept = Task.Run(server.AcceptLoopAsync);
            return server;
        }

        private async Task AcceptLoopAsync()
        {
            while (!_cts.IsCancellationRequested)
            {
                Socket socket;
                try
                {
                    socket = await _listener.AcceptSocketAsync(_cts.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                var stream = new NetworkStream(socket, ownsSocket: true);
                var session = new RtmpServerSession(new TestDuplexPipe(PipeReader.Create(stream), PipeWriter.Create(stream)), Hub, new OpenStreamResolver(), new RtmpServerOptions(), new ListLogger(), socket.RemoteEndPoint?.ToString());
                lock (_sessions)
                {
                    _sessions.Add(Task.Run(async () =>
                    {
                        await session.RunAsync(_cts.Token);
                        await stream.DisposeAsync();
                    }));
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _cts.CancelAsync();
            _listener.Stop();
            await _accept;
            Task[] sessions;
            lock (_sessions)
            {
                sessions = [.. _sessions];
            }

            await Task.WhenAll(sessions).WaitAsync(TimeSpan.FromSeconds(10));
            _cts.Dispose();
        }
    }
}
