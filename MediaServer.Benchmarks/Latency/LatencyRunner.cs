using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace MediaServer.Benchmarks.Latency;

/// <summary>
/// The <c>latency</c> verb: camera-to-screen latency of any RTMP-in, HLS-out server. Draws pictures carrying their
/// capture time (<see cref="ClockPicture"/>) at 30 fps in real time, encodes them with ffmpeg (libx264
/// <c>-tune zerolatency</c>, a keyframe a second, AAC), publishes over RTMP, and plays the HLS URL in headless
/// Chromium with hls.js (<c>Clients/latency.mjs</c>), in low-latency mode and/or classic, reading the time back
/// from every presented frame. Prints p50/p95/max, stalls, hls.js's own latency estimate and whether parts were
/// loaded, as one JSON line per mode; against our server also the server-side time from a frame's arrival to its
/// listing (p50/p99, from <c>/metrics</c>, over the player's run including its warm-up).
/// </summary>
internal static class LatencyRunner
{
    private const string Usage = """
        latency --rtmp URL --hls URL [--seconds 30] [--warmup 8] [--mode ll|classic|both] [--hls-config JSON] [--clients DIR]
          --rtmp URL     where to publish, stream key included (rtmp://127.0.0.1:1935/live/latency)
          --hls URL      what to play (http://127.0.0.1:8080/live/latency/index.m3u8)
          --seconds N    measured seconds per mode, after the warm-up
          --warmup N     seconds the player plays before measuring (it settles on its live edge)
          --mode         ll (hls.js lowLatencyMode), classic, or both (one after the other)
          --hls-config J hls.js settings merged into the player's (e.g. '{"maxLiveSyncPlaybackRate":1.5}')
          --clients DIR  the Node clients folder (default: MediaServer.Tests/Clients above this binary)
        """;

    /// <summary>Our server's histogram of each lead-track frame's arrival to the playlist listing it (absent elsewhere).</summary>
    private const string ListedMetric = "mediaserver_hls_frame_listed_seconds";

    public static int Run(string[] args)
    {
        string? rtmp = null, hls = null, clients = null, mode = "both", hlsConfig = "{}";
        double seconds = 30, warmup = 8;
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--rtmp": rtmp = Value(); break;
                case "--hls": hls = Value(); break;
                case "--seconds": seconds = double.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--warmup": warmup = double.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--mode": mode = Value(); break;
                case "--clients": clients = Value(); break;
                case "--hls-config": hlsConfig = Value(); break;
                default: Console.Error.WriteLine(Usage); return 2;
            }
        }

        if (rtmp is null || hls is null || mode is not ("ll" or "classic" or "both") || seconds is <= 0 or > 3600 || warmup is < 0 or > 600)
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }

        clients ??= FindClients();
        var modes = mode == "both" ? new[] { "ll", "classic" } : [mode];
        var publishSeconds = warmup + 15 + (modes.Length * (seconds + warmup + 15));
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(publishSeconds + 60));
        var publisher = Task.Run(() => Publish(rtmp, publishSeconds, stop.Token));
        try
        {
            Thread.Sleep(TimeSpan.FromSeconds(Math.Max(6, warmup)));
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            var metrics = Load.ServerHistogram.MetricsUri(new Uri(hls));
            var container = hls.Contains("container=fmp4", StringComparison.Ordinal) ? "fmp4" : "ts";
            foreach (var m in modes)
            {
                var before = Load.ServerHistogram.ReadAsync(http, metrics, ListedMetric, $"container=\"{container}\"").GetAwaiter().GetResult();
                var result = RunPlayer(clients, hls, m, seconds, warmup, hlsConfig);
                var listed = Load.ServerHistogram.ReadAsync(http, metrics, ListedMetric, $"container=\"{container}\"").GetAwaiter().GetResult()?.Since(before);
                var server = listed is null ? null : new
                {
                    frames = listed.Count,
                    arrivalToListedP50Ms = Math.Round(listed.Quantile(0.5) * 1000, 1),
                    arrivalToListedP99Ms = Math.Round(listed.Quantile(0.99) * 1000, 1),
                };
                Console.WriteLine(JsonSerializer.Serialize(new { mode = m, url = hls, hlsConfig, result, server }));
            }
        }
        finally
        {
            stop.Cancel();
            publisher.Wait(TimeSpan.FromSeconds(10));
        }

        return 0;
    }

    private static JsonElement RunPlayer(string clients, string url, string mode, double seconds, double warmup, string hlsConfig)
    {
        var info = new ProcessStartInfo("node") { WorkingDirectory = clients, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "latency.mjs", url, mode, seconds.ToString(CultureInfo.InvariantCulture), warmup.ToString(CultureInfo.InvariantCulture), hlsConfig })
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromSeconds(seconds + warmup + 120)))
        {
            process.Kill(entireProcessTree: true);
        }

        var line = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault(l => l.StartsWith('{'));
        return line is null
            ? JsonSerializer.SerializeToElement(new { ok = false, errors = new[] { "no result: " + stderr.Result } })
            : JsonDocument.Parse(line).RootElement.Clone();
    }

    // Real-time 30 fps: frame i is drawn with the wall clock at the moment it is handed to the encoder (the camera).
    private static void Publish(string rtmp, double seconds, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo("ffmpeg") { RedirectStandardInput = true, RedirectStandardError = true };
        foreach (var a in new[]
        {
            "-hide_banner", "-loglevel", "error",
            "-f", "rawvideo", "-pix_fmt", "gray", "-s", $"{ClockPicture.Width}x{ClockPicture.Height}", "-framerate", "30", "-i", "pipe:0",
            "-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
            "-c:v", "libx264", "-tune", "zerolatency", "-preset", "veryfast", "-g", "30", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", "64k", "-shortest", "-f", "flv", rtmp,
        })
        {
            info.ArgumentList.Add(a);
        }

        using var ffmpeg = Process.Start(info)!;
        _ = ffmpeg.StandardError.ReadToEndAsync(cancellationToken);
        var frame = new byte[ClockPicture.Width * ClockPicture.Height];
        var input = ffmpeg.StandardInput.BaseStream;
        var clock = Stopwatch.StartNew();
        var frames = (long)(seconds * 30);
        try
        {
            for (long i = 0; i < frames && !cancellationToken.IsCancellationRequested; i++)
            {
                var due = TimeSpan.FromMilliseconds(i * 1000.0 / 30);
                var wait = due - clock.Elapsed;
                if (wait > TimeSpan.Zero)
                {
                    Thread.Sleep(wait);
                }

                ClockPicture.Draw(frame, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
                input.Write(frame);
                input.Flush();
            }
        }
        catch (IOException)
        {
            // ffmpeg went away (the server closed the connection).
        }
        finally
        {
            try
            {
                input.Close();
            }
            catch (IOException)
            {
            }

            if (!ffmpeg.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                ffmpeg.Kill(entireProcessTree: true);
            }
        }
    }

    private static string FindClients()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "MediaServer.Tests", "Clients");
            if (File.Exists(Path.Combine(candidate, "latency.mjs")))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("MediaServer.Tests/Clients (with latency.mjs and node_modules) not found; pass --clients.");
    }
}
