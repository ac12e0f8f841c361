using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using MediaServer.Tests.Infrastructure;

namespace MediaServer.Tests.EndToEnd;

/// <summary>
/// Restream targets cannot make the server connect into its own network (SSRF): with the default policy every
/// loopback, private, link-local and non-unicast target is refused, a literal one by the API (400), a host name
/// after DNS with the target's status saying so, and a listener on loopback counts zero connections. Even with
/// <c>AllowPrivateNetworks</c> the server's own listeners are refused.
/// </summary>
[TestFixture]
[NonParallelizable]
public class RestreamAddressPolicyTests
{
    private static readonly TimeSpan StatusWait = TimeSpan.FromSeconds(30);

    /// <summary>Counts the TCP connections accepted on one port of 127.0.0.1 and ::1.</summary>
    private sealed class CountingListener : IDisposable
    {
        private readonly TcpListener _v4;
        private readonly TcpListener _v6;
        private int _accepted;

        public CountingListener()
        {
            _v4 = new TcpListener(IPAddress.Loopback, 0);
            _v4.Start();
            Port = ((IPEndPoint)_v4.LocalEndpoint).Port;
            _v6 = new TcpListener(IPAddress.IPv6Loopback, Port);
            _v6.Start();
            _ = AcceptAsync(_v4);
            _ = AcceptAsync(_v6);
        }

        public int Port { get; }

        public int Accepted => Volatile.Read(ref _accepted);

        private async Task AcceptAsync(TcpListener listener)
        {
            try
            {
                while (true)
                {
                    using var client = await listener.AcceptTcpClientAsync();
                    Interlocked.Increment(ref _accepted);
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
            }
        }

        public void Dispose()
        {
            _v4.Stop();
            _v6.Stop();
        }
    }

    private static IEnumerable<TestCaseData> ForbiddenLiterals()
    {
        // {port} = a loopback listener's port: if any of these were contacted, it could be counted.
        string[] urls =
        [
            "rtmp://127.0.0.1:{port}/live",
            "rtmp://127.0.0.2:{port}/live",
            "rtmp://[::1]:{port}/live",
            "rtmp://[::ffff:127.0.0.1]:{port}/live",
            "rtmp://2130706433:{port}/live",          // 127.0.0.1 as one decimal number
            "rtmp://0.0.0.0:{port}/live",              // reaches this host on Linux
            "rtmps://[::]:{port}/live",
            "rtmp://10.1.2.3/live",
            "rtmp://172.16.0.1/live",
            "rtmp://192.168.1.1/live",
            "rtmp://100.64.0.1/live",
            "rtmp://169.254.169.254/live",             // cloud metadata
            "rtmp://[::ffff:169.254.169.254]/live",
            "rtmp://[fe80::1]/live",
            "rtmp://[fc00::1]/live",
            "rtmp://[fd12:3456::1]/live",
            "rtmp://224.0.0.1/live",
            "rtmp://255.255.255.255/live",
            "rtmp://[ff02::1]/live",
        ];
        return urls.Select(u => new TestCaseData(u).SetName($"LiteralTarget_Refused400_NeverContacted({u.Replace("{port}", "P", StringComparison.Ordinal)})"));
    }

    [TestCaseSource(nameof(ForbiddenLiterals))]
    public async Task LiteralTarget_Refused400_NeverContacted(string template)
    {
        using var listener = new CountingListener();
        var url = template.Replace("{port}", listener.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        var (status, body) = await SendAsync(_defaultServer, _defaultToken, HttpMethod.Post, "v1/livestreams", Body(url));
        Assert.That(status, Is.EqualTo(HttpStatusCode.BadRequest), body);
        Assert.That(body, Does.Contain("address not allowed"));

        // PATCH is refused the same way.
        var created = await CreateAsync(_defaultServer, _defaultToken, []);
        (status, body) = await SendAsync(_defaultServer, _defaultToken, HttpMethod.Patch, $"v1/livestreams/{created.GetProperty("id").GetString()}", Body(url));
        Assert.That(status, Is.EqualTo(HttpStatusCode.BadRequest), body);
        Assert.That(listener.Accepted, Is.Zero);
    }

    [Test]
    public async Task HostNameResolvingToLoopback_RefusedAfterDns_NeverContacted()
    {
        using var listener = new CountingListener();
        var livestream = await CreateAsync(_defaultServer, _defaultToken, [($"rtmp://localhost:{listener.Port}/live", "k")]);
        var id = livestream.GetProperty("id").GetString()!;
        using var publisher = Ffmpeg.StartPublishing(livestream.GetProperty("upstreamUrl").GetString()!, seconds: 60, out var errors);
        try
        {
            var status = await WaitForErrorAsync(_defaultServer, _defaultToken, id);
            var error = status.GetProperty("restreamStatus")[0].GetProperty("lastError").GetString();
            Assert.That(error, Does.Contain("Address not allowed").And.Contain("loopback"), status.ToString());

            // Retries keep being refused: still nothing reached the listener.
            await WaitForReconnectsAsync(_defaultServer, _defaultToken, id, 1);
            Assert.That(listener.Accepted, Is.Zero);
        }
        finally
        {
            ProcessRunner.KillQuietly(publisher);
        }
    }

    [Test]
    public async Task OwnListener_RefusedEvenWithAllowPrivateNetworks_WhileAnotherLoopbackTargetIsContacted()
    {
        using var listener = new CountingListener();
        var own = $"rtmp://127.0.0.1:{_privateServer.RtmpPort}/live";
        var (status, body) = await SendAsync(_privateServer, _privateToken, HttpMethod.Post, "v1/livestreams", Body(own));
        Assert.That(status, Is.EqualTo(HttpStatusCode.BadRequest), body);
        Assert.That(body, Does.Contain("own listener"));
        (status, body) = await SendAsync(_privateServer, _privateToken, HttpMethod.Post, "v1/livestreams", Body($"rtmp://127.0.0.1:{_privateServer.HttpPort}/live"));
        Assert.That(status, Is.EqualTo(HttpStatusCode.BadRequest), body);

        // By name: refused after DNS. The other loopback target is allowed, and contacted (the control).
        var livestream = await CreateAsync(_privateServer, _privateToken, [
            ($"rtmp://localhost:{_privateServer.RtmpPort}/live", "wrong-key-1"),
            ($"rtmp://localhost:{listener.Port}/live", "k"),
        ]);
        var id = livestream.GetProperty("id").GetString()!;
        using var publisher = Ffmpeg.StartPublishing(livestream.GetProperty("upstreamUrl").GetString()!, seconds: 60, out _);
        try
        {
            var result = await WaitForErrorAsync(_privateServer, _privateToken, id);
            var error = result.GetProperty("restreamStatus")[0].GetProperty("lastError").GetString();
            Assert.That(error, Does.Contain("own listener"), result.ToString());
            var stopwatch = Stopwatch.StartNew();
            while (listener.Accepted == 0 && stopwatch.Elapsed < StatusWait)
            {
                await Task.Delay(100);
            }

            Assert.That(listener.Accepted, Is.GreaterThan(0), "AllowPrivateNetworks allows loopback targets");
            Assert.That(_privateServer.Log, Does.Not.Contain("wrong-key-1"));
            Assert.That(_privateServer.Log, Does.Not.Contain($"publish to 'live/wrong-key-1'"), "the server never published to itself");
        }
        finally
        {
            ProcessRunner.KillQuietly(publisher);
        }
    }

    private ServerProcess _defaultServer = null!;
    private ServerProcess _privateServer = null!;
    private string _defaultToken = null!;
    private string _privateToken = null!;

    [OneTimeSetUp]
    public async Task SetUp()
    {
        var root = Path.Combine(Path.GetTempPath(), "mediaserver-tests", "ssrf-" + Guid.NewGuid().ToString("N"));
        var defaultData = Path.Combine(root, "default");
        var (key, _) = await ServerCli.CreateApiKeyAsync(defaultData);
        _defaultToken = await ServerCli.TokenAsync(defaultData, key);
        _defaultServer = await ServerProcess.StartAsync(["--MediaServer:Restream:ConnectTimeoutSeconds=2", "--MediaServer:Restream:MaxBackoffSeconds=1"], defaultData, defaultEgressPolicy: true);

        var privateData = Path.Combine(root, "private");
        (key, _) = await ServerCli.CreateApiKeyAsync(privateData);
        _privateToken = await ServerCli.TokenAsync(privateData, key);
        _privateServer = await ServerProcess.StartAsync(["--MediaServer:Restream:ConnectTimeoutSeconds=2", "--MediaServer:Restream:MaxBackoffSeconds=1"], privateData);
    }

    [OneTimeTearDown]
    public async Task TearDown()
    {
        await _defaultServer.DisposeAsync();
        await _privateServer.DisposeAsync();
    }

    private static string Body(string url) => JsonSerializer.Serialize(new { name = "ssrf", restream = new[] { new { url, streamKey = "k" } } });

    private static async Task<(HttpStatusCode Status, string Body)> SendAsync(ServerProcess server, string token, HttpMethod method, string path, string? json)
    {
        using var request = new HttpRequestMessage(method, new Uri(server.HttpBase, path));
        request.Headers.TryAddWithoutValidation("Authorization", token);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        using var response = await server.Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task<JsonElement> CreateAsync(ServerProcess server, string token, (string Url, string Key)[] targets)
    {
        var json = JsonSerializer.Serialize(new { name = "ssrf", restream = targets.Select(t => new { url = t.Url, streamKey = t.Key }).ToArray() });
        var (status, body) = await SendAsync(server, token, HttpMethod.Post, "v1/livestreams", json);
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK), body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static async Task<JsonElement> GetAsync(ServerProcess server, string token, string id)
    {
        var (_, body) = await SendAsync(server, token, HttpMethod.Get, $"v1/livestreams/{id}", null);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static async Task<JsonElement> WaitForErrorAsync(ServerProcess server, string token, string id)
    {
        var stopwatch = Stopwatch.StartNew();
        JsonElement last = default;
        while (stopwatch.Elapsed < StatusWait)
        {
            last = await GetAsync(server, token, id);
            if (last.GetProperty("restreamStatus")[0].GetProperty("lastError").ValueKind == JsonValueKind.String)
            {
                return last;
            }

            await Task.Delay(200);
        }

        Assert.Fail($"no restream error within {StatusWait}: {last}\n{server.Log}");
        return last;
    }

    private static async Task WaitForReconnectsAsync(ServerProcess server, string token, string id, int reconnects)
    {
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed < StatusWait)
        {
            var last = await GetAsync(server, token, id);
            if (last.GetProperty("restreamStatus")[0].GetProperty("reconnects").GetInt32() >= reconnects)
            {
                return;
            }

            await Task.Delay(200);
        }

        Assert.Fail($"no retry within {StatusWait}\n{server.Log}");
    }
}
