using System.Diagnostics;
using System.Text;

namespace MediaServer.Tests.Infrastructure;

/// <summary>
/// The real server binary (MediaServer.dll from this test run's output), started as its own process on
/// free loopback ports with a fresh data folder, for end-to-end tests.
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout;
    private readonly StringBuilder _stderr;

    private ServerProcess(Process process, StringBuilder stdout, StringBuilder stderr, int rtmpPort, int httpPort, string dataDirectory)
    {
        _process = process;
        _stdout = stdout;
        _stderr = stderr;
        RtmpPort = rtmpPort;
        HttpPort = httpPort;
        DataDirectory = dataDirectory;
        Http = new HttpClient { BaseAddress = HttpBase, Timeout = TimeSpan.FromSeconds(30) };
    }

    public int RtmpPort { get; }

    public int HttpPort { get; }

    public string DataDirectory { get; }

    public HttpClient Http { get; }

    public Uri HttpBase => new($"http://127.0.0.1:{HttpPort}/");

    public string RtmpUrl(string app, string key) => $"rtmp://127.0.0.1:{RtmpPort}/{app}/{key}";

    /// <summary>The multivariant playlist (what the API hands out as downstreamUrl).</summary>
    public string HlsUrl(string streamId) => $"http://127.0.0.1:{HttpPort}/live/{streamId}/index.m3u8";

    /// <summary>The media playlist the multivariant playlist points at: segments, sequence numbers, ENDLIST.</summary>
    public string MediaPlaylistUrl(string streamId) => MediaPlaylistOf(HlsUrl(streamId));

    /// <summary>The media playlist next to a multivariant <c>index.m3u8</c> URL.</summary>
    public static string MediaPlaylistOf(string multivariantUrl) => multivariantUrl.Replace("/index.m3u8", "/stream.m3u8", StringComparison.Ordinal);

    public Process Process => _process;

    /// <summary>Everything the server logged so far.</summary>
    public string Log
    {
        get
        {
            lock (_stdout)
            {
                lock (_stderr)
                {
                    return _stdout + _stderr.ToString();
                }
            }
        }
    }

    /// <param name="defaultEgressPolicy">
    /// False (the default for tests): restream targets may be on loopback (<c>AllowPrivateNetworks</c>) and only
    /// 127.0.0.1/localhost are contacted (<c>AllowedHosts</c>). True: neither is set, the server's own defaults apply
    /// (for the tests of that policy; their targets must be refused addresses only).
    /// </param>
    public static async Task<ServerProcess> StartAsync(IEnumerable<string>? extraArguments = null, string? dataDirectory = null, bool defaultEgressPolicy = false)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "MediaServer.dll");
        dataDirectory ??= Path.Combine(Path.GetTempPath(), "mediaserver-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDirectory);
        var rtmpPort = FreePort.Next();
        var httpPort = FreePort.Next();
        string[] arguments =
        [
            dll,
            $"--MediaServer:Rtmp:Port={rtmpPort}",
            $"--MediaServer:Http:Port={httpPort}",
            "--MediaServer:BindAddress=127.0.0.1",
            $"--MediaServer:DataDirectory={dataDirectory}",
            $"--MediaServer:PublicBaseUrl=http://127.0.0.1:{httpPort}",
            // Tests create livestreams with the page's YouTube restream target: never contact anything off this machine,
            // and do contact the test's own RTMP servers on loopback.
            .. defaultEgressPolicy ? Array.Empty<string>() :
            [
                "--MediaServer:Restream:AllowedHosts:0=127.0.0.1",
                "--MediaServer:Restream:AllowedHosts:1=localhost",
                "--MediaServer:Restream:AllowPrivateNetworks=true",
            ],
            .. extraArguments ?? [],
        ];
        var process = ProcessRunner.Start("dotnet", arguments, out var stdout, out var stderr);
        var server = new ServerProcess(process, stdout, stderr, rtmpPort, httpPort, dataDirectory);
        await server.WaitUntilReadyAsync(TimeSpan.FromSeconds(30));
        return server;
    }

    private async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The server exited with {_process.ExitCode} during start-up:\n{Log}");
            }

            try
            {
                using var response = await Http.GetAsync(new Uri("healthz", UriKind.Relative));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"The server did not answer /healthz within {timeout}:\n{Log}");
    }

    /// <summary>The stream's media playlist, or "" while there is none.</summary>
    public async Task<string> MediaPlaylistAsync(string streamId)
    {
        using var response = await Http.GetAsync(new Uri(MediaPlaylistUrl(streamId)));
        return response.IsSuccessStatusCode ? await response.Content.ReadAsStringAsync() : "";
    }

    /// <summary>Polls the stream's media playlist until <paramref name="ready"/> holds; fails the test with the last playlist and the server log otherwise.</summary>
    public async Task<string> WaitForMediaPlaylistAsync(string streamId, Func<string, bool> ready, TimeSpan? timeout = null)
    {
        var stopwatch = Stopwatch.StartNew();
        var last = "";
        while (stopwatch.Elapsed < (timeout ?? TimeSpan.FromSeconds(30)))
        {
            last = await MediaPlaylistAsync(streamId);
            if (last.Length > 0 && ready(last))
            {
                return last;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"The playlist of {streamId} did not get ready. Last:\n{last}\nServer log:\n{Log}");
        return last;
    }

    /// <summary>Waits until the stream's media playlist ends (EXT-X-ENDLIST) and returns it.</summary>
    public Task<string> WaitForPlaylistEndAsync(string streamId, TimeSpan? timeout = null) =>
        WaitForMediaPlaylistAsync(streamId, static p => p.Contains("#EXT-X-ENDLIST", StringComparison.Ordinal), timeout);

    /// <summary>Waits until the server's log contains <paramref name="text"/>.</summary>
    public async Task<bool> WaitForLogAsync(string text, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (Log.Contains(text, StringComparison.Ordinal))
            {
                return true;
            }

            await Task.Delay(50);
        }

        return false;
    }

    /// <summary>Graceful stop (SIGTERM), then kill if it hangs.</summary>
    public async Task StopAsync(TimeSpan? grace = null)
    {
        ProcessRunner.Terminate(_process);
        using var cts = new CancellationTokenSource(grace ?? TimeSpan.FromSeconds(15));
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            ProcessRunner.KillQuietly(_process);
        }
    }

    /// <summary>Stops the server but keeps its data folder (restart tests).</summary>
    public async Task DisposeAsyncKeepData()
    {
        await StopAsync();
        Http.Dispose();
        _process.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await DisposeAsyncKeepData();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
