using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using MediaServer.Tests.Infrastructure;

namespace MediaServer.Tests.EndToEnd;

/// <summary>
/// Restreaming with real peers: ffmpeg publishes to our server, which pushes the stream on to a real nginx
/// with the RTMP module, to a port where nothing listens, and to a second instance of our server over RTMPS;
/// ffmpeg reads the copies back and decodes them.
/// </summary>
[TestFixture]
[NonParallelizable]
public class RestreamTests
{
    private const string NginxBinary = "/usr/sbin/nginx";
    private const string RtmpModule = "/usr/share/nginx/modules/ngx_rtmp_module.so";
    private static readonly TimeSpan StatusWait = TimeSpan.FromSeconds(40);

    private string _folder = null!;
    private Process? _nginx;
    private StringBuilder? _nginxErrors;
    private int _nginxPort;
    private int _rtmpsPort;
    private ServerProcess? _rtmpsServer;

    [OneTimeSetUp]
    public async Task SetUp()
    {
        Tools.RequireTool("nginx with libnginx-mod-rtmp", File.Exists(NginxBinary) && File.Exists(RtmpModule), "apt-get install -y nginx libnginx-mod-rtmp");

        _folder = Path.Combine(Path.GetTempPath(), "mediaserver-tests", "restream-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_folder);
        _nginxPort = FreePort.Next();
        var config = Path.Combine(_folder, "nginx.conf");
        await File.WriteAllTextAsync(config, $$"""
            load_module {{RtmpModule}};
            daemon off;
            master_process off;
            worker_processes 1;
            error_log {{_folder}}/error.log info;
            pid {{_folder}}/nginx.pid;
            events { worker_connections 64; }
            rtmp {
                server {
                    listen 127.0.0.1:{{_nginxPort}};
                    chunk_size 4096;
                    application live {
                        live on;
                        record off;
                    }
                }
            }
            """);
        _nginx = ProcessRunner.Start(NginxBinary, ["-e", Path.Combine(_folder, "error.log"), "-p", _folder, "-c", config], out _, out _nginxErrors);
        await WaitForPortAsync(_nginxPort, TimeSpan.FromSeconds(15), () => $"nginx did not listen: {_nginxErrors}\n{ReadNginxLog()}");

        // A second server in open mode (no API keys: any key under live publishes) with an RTMPS listener.
        var rtmpsData = Path.Combine(_folder, "rtmps-server");
        var pfx = TestCertificate.WritePfx(rtmpsData);
        _rtmpsPort = FreePort.Next();
        _rtmpsServer = await ServerProcess.StartAsync([$"--MediaServer:Rtmps:Port={_rtmpsPort}", $"--MediaServer:Rtmps:CertificatePath={pfx}"], rtmpsData);
    }

    [OneTimeTearDown]
    public async Task TearDown()
    {
        if (_nginx is not null)
        {
            ProcessRunner.KillQuietly(_nginx);
            _nginx.Dispose();
        }

        if (_rtmpsServer is not null)
        {
            await _rtmpsServer.DisposeAsync();
        }

        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Test]
    public async Task Restream_ToNginxADeadPortAndAnUntrustedRtmpsServer_StatusPerTargetAndNginxCopyDecodes()
    {
        var data = Path.Combine(_folder, "main-1");
        var (apiKey, _) = await ServerCli.CreateApiKeyAsync(data);
        var token = await ServerCli.TokenAsync(data, apiKey);
        await using var server = await ServerProcess.StartAsync(dataDirectory: data);
        var deadPort = FreePort.Next();
        var nginxKey = "copy" + Guid.NewGuid().ToString("N")[..8];
        var livestream = await CreateAsync(server, token, [
            ($"rtmp://127.0.0.1:{_nginxPort}/live", nginxKey),
            ($"rtmp://127.0.0.1:{deadPort}/live", "dead"),
            ($"rtmps://127.0.0.1:{_rtmpsPort}/live", "untrusted"),
        ]);
        var id = livestream.GetProperty("id").GetString()!;
        Assert.That(States(livestream), Is.EqualTo(new[] { "idle", "idle", "idle" }), "not live yet");

        using var publisher = Ffmpeg.StartPublishing(livestream.GetProperty("upstreamUrl").GetString()!, seconds: 60, out var publisherErrors);
        try
        {
            var status = await WaitForStatusAsync(server, token, id, s => s[0] == "live" && s[1] == "error" && s[2] == "error");
            var entries = status.GetProperty("restreamStatus");
            Assert.Multiple(() =>
            {
                Assert.That(entries[1].GetProperty("lastError").GetString(), Does.Contain($"127.0.0.1:{deadPort}"), status.ToString());
                Assert.That(entries[1].GetProperty("lastErrorAt").ValueKind, Is.EqualTo(JsonValueKind.String));
                Assert.That(entries[2].GetProperty("lastError").GetString(), Does.Contain("TLS"), "certificates are validated by default");
                Assert.That(entries[0].GetProperty("url").GetString(), Is.EqualTo($"rtmp://127.0.0.1:{_nginxPort}/live"));
                Assert.That(status.GetProperty("restream")[0].GetProperty("streamKey").GetString(), Is.EqualTo(nginxKey), "the page's fields are unchanged");
            });

            var decode = await Ffmpeg.DecodeAsync($"rtmp://127.0.0.1:{_nginxPort}/live/{nginxKey}", TimeSpan.FromSeconds(60), "-t", "3");
            Assert.That(decode.ExitCode, Is.Zero, decode + "\n" + ReadNginxLog());
            Assert.That(decode.StandardError.Trim(), Is.Empty, decode.StandardError);

            // The dead target is retried with backoff.
            var later = await WaitForStatusAsync(server, token, id, _ => true, requireReconnects: 1);
            Assert.That(later.GetProperty("restreamStatus")[1].GetProperty("reconnects").GetInt32(), Is.GreaterThanOrEqualTo(1));

            // The ingest's HLS goes on.
            await AssertHlsGrowsAsync(server, livestream.GetProperty("downstreamUrl").GetString()!);
            Assert.That(publisher.HasExited, Is.False, publisherErrors.ToString());
        }
        finally
        {
            ProcessRunner.KillQuietly(publisher);
        }

        Assert.That(CountOccurrences(server.Log, "Connection refused by 127.0.0.1:" + deadPort), Is.EqualTo(1), "one warning for repeated identical failures:\n" + server.Log);
    }

    [Test]
    public async Task Restream_ToOurRtmpsPortWithUntrustedCertificatesAllowed_IsLiveAndPlayableThere()
    {
        var data = Path.Combine(_folder, "main-2");
        var (apiKey, _) = await ServerCli.CreateApiKeyAsync(data);
        var token = await ServerCli.TokenAsync(data, apiKey);
        await using var server = await ServerProcess.StartAsync(["--MediaServer:Restream:AllowUntrustedCertificates=true"], data);
        var mirrorKey = "mirror" + Guid.NewGuid().ToString("N")[..8];
        var livestream = await CreateAsync(server, token, [($"rtmps://127.0.0.1:{_rtmpsPort}/live", mirrorKey)]);
        var id = livestream.GetProperty("id").GetString()!;

        using var publisher = Ffmpeg.StartPublishing(livestream.GetProperty("upstreamUrl").GetString()!, seconds: 60, out var publisherErrors);
        try
        {
            await WaitForStatusAsync(server, token, id, s => s[0] == "live");
            var play = await Ffmpeg.DecodeAsync(_rtmpsServer!.RtmpUrl("live", mirrorKey), TimeSpan.FromSeconds(60), "-t", "3");
            Assert.That(play.ExitCode, Is.Zero, play + "\n" + _rtmpsServer.Log);
            Assert.That(play.StandardError.Trim(), Is.Empty, play.StandardError);

            // PATCH away the target while live: its worker stops, the copy ends on the other server.
            using var patch = new HttpRequestMessage(HttpMethod.Patch, new Uri(server.HttpBase, $"v1/livestreams/{id}"));
            patch.Headers.TryAddWithoutValidation("Authorization", token);
            patch.Content = new StringContent("""{"restream":[]}""", Encoding.UTF8, "application/json");
            using var patched = await server.Http.SendAsync(patch);
            Assert.That(patched.IsSuccessStatusCode, Is.True);
            Assert.That(await server.WaitForLogAsync($"→ rtmps://127.0.0.1:{_rtmpsPort}/live: stopped", TimeSpan.FromSeconds(15)), Is.True, server.Log);
            Assert.That(publisher.HasExited, Is.False, publisherErrors.ToString());
        }
        finally
        {
            ProcessRunner.KillQuietly(publisher);
        }
    }

    private static string[] States(JsonElement livestream) =>
        [.. livestream.GetProperty("restreamStatus").EnumerateArray().Select(e => e.GetProperty("state").GetString()!)];

    private static async Task<JsonElement> CreateAsync(ServerProcess server, string token, (string Url, string Key)[] targets)
    {
        var body = JsonSerializer.Serialize(new
        {
            name = "restream test",
            restream = targets.Select(t => new { url = t.Url, streamKey = t.Key }).ToArray(),
        });
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server.HttpBase, "v1/livestreams"));
        request.Headers.TryAddWithoutValidation("Authorization", token);
        request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await server.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.That(response.IsSuccessStatusCode, Is.True, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static async Task<JsonElement> WaitForStatusAsync(ServerProcess server, string token, string id, Func<string[], bool> condition, int requireReconnects = 0)
    {
        var stopwatch = Stopwatch.StartNew();
        JsonElement last = default;
        while (stopwatch.Elapsed < StatusWait)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(server.HttpBase, $"v1/livestreams/{id}"));
            request.Headers.TryAddWithoutValidation("Authorization", token);
            using var response = await server.Http.SendAsync(request);
            last = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
            var reconnects = last.GetProperty("restreamStatus").EnumerateArray().Select(e => e.GetProperty("reconnects").GetInt32()).DefaultIfEmpty(0).Max();
            if (condition(States(last)) && reconnects >= requireReconnects)
            {
                return last;
            }

            await Task.Delay(250);
        }

        Assert.Fail($"restream status not reached within {StatusWait}: {last}\n{server.Log}");
        return last;
    }

    private static async Task AssertHlsGrowsAsync(ServerProcess server, string playlistUrl)
    {
        var first = await SegmentCountAsync(server, playlistUrl);
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed < TimeSpan.FromSeconds(20))
        {
            await Task.Delay(500);
            if (await SegmentCountAsync(server, playlistUrl) is var now && now > 0 && now != first)
            {
                return;
            }
        }

        Assert.Fail("the ingest's HLS playlist did not change within 20 s\n" + server.Log);
    }

    private static async Task<int> SegmentCountAsync(ServerProcess server, string playlistUrl)
    {
        using var response = await server.Http.GetAsync(new Uri(ServerProcess.MediaPlaylistOf(playlistUrl)));
        if (!response.IsSuccessStatusCode)
        {
            return 0;
        }

        var text = await response.Content.ReadAsStringAsync();
        var sequence = text.Split('\n').FirstOrDefault(l => l.StartsWith("#EXT-X-MEDIA-SEQUENCE:", StringComparison.Ordinal));
        var media = sequence is null ? 0 : int.Parse(sequence["#EXT-X-MEDIA-SEQUENCE:".Length..], CultureInfo.InvariantCulture);
        return media + text.Split("#EXTINF").Length - 1;
    }

    private static async Task WaitForPortAsync(int port, TimeSpan timeout, Func<string> describe)
    {
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed < timeout)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }

        Assert.Fail(describe());
    }

    private string ReadNginxLog()
    {
        var path = Path.Combine(_folder, "error.log");
        return File.Exists(path) ? File.ReadAllText(path) : "(no nginx error log)";
    }

    private static int CountOccurrences(string text, string value)
    {
        var count = 0;
        for (var i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + value.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
