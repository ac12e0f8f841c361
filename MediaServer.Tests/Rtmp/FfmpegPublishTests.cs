using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using MediaServer.Core.Flv;
using MediaServer.Core.Streams;
using MediaServer.Rtmp.Handshake;
using MediaServer.Rtmp.Session;
using MediaServer.Tests.Rtmp.Infrastructure;

namespace MediaServer.Tests.Rtmp;

/// <summary>A real ffmpeg publishing to an <see cref="RtmpServerSession"/> over a loopback socket.</summary>
[CancelAfter(60_000)]
[NonParallelizable]
public class FfmpegPublishTests
{
    [Test]
    public async Task FfmpegHandshake_C1_CarriesValidDigest()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var ffmpeg = StartFfmpeg(((IPEndPoint)listener.LocalEndpoint).Port, "digest", seconds: 1);
        try
        {
            using var socket = await listener.AcceptSocketAsync().WaitAsync(TimeSpan.FromSeconds(20));
            var c0c1 = new byte[1 + RtmpHandshake.PacketSize];
            var read = 0;
            while (read < c0c1.Length)
            {
                var n = await socket.ReceiveAsync(c0c1.AsMemory(read));
                Assert.That(n, Is.GreaterThan(0), "ffmpeg closed during the handshake");
                read += n;
            }

            var c1 = c0c1.AsSpan(1);
            Assert.That(c0c1[0], Is.EqualTo(RtmpHandshake.Version));
            Assert.That(RtmpHandshake.FindDigest(c1, RtmpHandshake.PlayerKey.AsSpan(0, RtmpHandshake.PlayerKeyTextLength), out _), Is.GreaterThanOrEqualTo(0));
        }
        finally
        {
            Stop(ffmpeg);
        }
    }

    [Test]
    public async Task FfmpegPublish_CommandFlow_ReachesPublishStart()
    {
        var hub = new StreamHub();
        var started = new TaskCompletionSource<LiveStream>(TaskCreationOptions.RunContinuationsAsynchronously);
        hub.StreamStarted += stream => started.TrySetResult(stream);
        var logger = new ListLogger();
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var ffmpeg = StartFfmpeg(((IPEndPoint)listener.LocalEndpoint).Port, "e2e", seconds: 2);
        try
        {
            using var socket = await listener.AcceptSocketAsync().WaitAsync(TimeSpan.FromSeconds(20));
            await using var stream = new NetworkStream(socket, ownsSocket: false);
            var transport = new TestDuplexPipe(PipeReader.Create(stream), PipeWriter.Create(stream));
            var session = new RtmpServerSession(transport, hub, new OpenStreamResolver(), new RtmpServerOptions(), logger, "ffmpeg");
            var run = session.RunAsync(CancellationToken.None);

            var live = await started.Task.WaitAsync(TimeSpan.FromSeconds(20));
            Assert.That(live.Id, Is.EqualTo("e2e"));

            await ffmpeg.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            await run.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Multiple(() =>
            {
                Assert.That(ffmpeg.ExitCode, Is.Zero, "ffmpeg exit code");
                Assert.That(live.FramesIn, Is.GreaterThan(50));
                Assert.That(session.ProtocolError, Is.Null);
                Assert.That(logger.Warnings, Is.Empty);
            });
        }
        finally
        {
            Stop(ffmpeg);
        }
    }

    [Test]
    public async Task FfprobePlay_WhileFfmpegPublishes_SeesH264AndAac()
    {
        var hub = new StreamHub();
        var started = new TaskCompletionSource<LiveStream>(TaskCreationOptions.RunContinuationsAsynchronously);
        hub.StreamStarted += stream => started.TrySetResult(stream);
        var logger = new ListLogger();
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var stop = new CancellationTokenSource();
        var sessions = new List<Task>();
        var accept = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var socket = await listener.AcceptSocketAsync(stop.Token);
                var stream = new NetworkStream(socket, ownsSocket: true);
                var transport = new TestDuplexPipe(PipeReader.Create(stream), PipeWriter.Create(stream));
                lock (sessions)
                {
                    sessions.Add(new RtmpServerSession(transport, hub, new OpenStreamResolver(), new RtmpServerOptions(), logger, "peer").RunAsync(stop.Token));
                }
            }
        });

        using var ffmpeg = StartFfmpeg(port, "show", seconds: 6);
        try
        {
            await started.Task.WaitAsync(TimeSpan.FromSeconds(20));
            var info = new ProcessStartInfo("ffprobe") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var arg in new[] { "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", $"rtmp://127.0.0.1:{port}/live/show" })
            {
                info.ArgumentList.Add(arg);
            }

            using var ffprobe = Process.Start(info)!;
            var errors = ffprobe.StandardError.ReadToEndAsync();
            var output = await ffprobe.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30));
            await ffprobe.WaitForExitAsync();
            var codecs = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Assert.That(codecs, Is.EquivalentTo(new[] { "h264", "aac" }), await errors + string.Join("\n", logger.Entries));
        }
        finally
        {
            Stop(ffmpeg);
            await stop.CancelAsync();
            listener.Stop();
            Task[] all;
            lock (sessions)
            {
                all = [.. sessions];
            }

            await Task.WhenAll(all).WaitAsync(TimeSpan.FromSeconds(10));
        }

        Assert.That(logger.Entries.Where(e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Error), Is.Empty);
    }


    private static Process StartFfmpeg(int port, string key, int seconds)
    {
        var info = new ProcessStartInfo("ffmpeg")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            "-hide_banner", "-loglevel", "error", "-re",
            "-f", "lavfi", "-i", $"testsrc=size=320x240:rate=25:duration={seconds}",
            "-f", "lavfi", "-i", $"sine=frequency=440:duration={seconds}",
            "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-c:a", "aac",
            "-f", "flv", $"rtmp://127.0.0.1:{port}/live/{key}",
        })
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info)!;
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { TestContext.Progress.WriteLine("ffmpeg: " + e.Data); } };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return process;
    }

    private static void Stop(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }
    }
}
