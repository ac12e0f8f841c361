using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using MediaServer.Tests.Infrastructure;

namespace MediaServer.Tests.EndToEnd;

/// <summary>
/// Recording with the real server: ffmpeg publishes to a <c>record: true</c> livestream created through the
/// API; the recording is read back from <c>recordingUrl</c> and from disk, after a clean end and after
/// <c>kill -9</c> of the server mid-stream.
/// </summary>
[TestFixture]
[NonParallelizable]
public partial class RecordingTests
{
    private string _data = null!;
    private string _token = null!;

    [SetUp]
    public async Task SetUp()
    {
        _data = Path.Combine(Path.GetTempPath(), "mediaserver-tests", "recording-e2e-" + Guid.NewGuid().ToString("N"));
        var (apiKey, _) = await ServerCli.CreateApiKeyAsync(_data);
        _token = await ServerCli.TokenAsync(_data, apiKey);
    }

    [TearDown]
    public void TearDown()
    {
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Test]
    public async Task RecordTrue_PublishThenStop_RecordingIsVodAndPlaysForAsLongAsWasSent()
    {
        await using var server = await ServerProcess.StartAsync(dataDirectory: _data);
        var livestream = await CreateAsync(server, record: true);

        var publish = await Ffmpeg.PublishAsync(livestream.GetProperty("upstreamUrl").GetString()!, seconds: 8, realtime: false);
        Assert.That(publish.ExitCode, Is.Zero, publish.ToString());

        var recording = await WaitForRecordingAsync(server, livestream, r => r.GetProperty("status").GetString() == "complete");
        var recordingUrl = livestream.GetProperty("recordingUrl").GetString()!;
        var playlist = await server.Http.GetStringAsync(new Uri(recordingUrl));
        Assert.That(playlist, Does.Contain("#EXT-X-PLAYLIST-TYPE:VOD\n").And.EndWith("#EXT-X-ENDLIST\n"));
        Assert.That(recording.GetProperty("duration").GetDouble(), Is.EqualTo(8).Within(2.0), recording.ToString());

        var decode = await Ffmpeg.DecodeAsync(recordingUrl, TimeSpan.FromSeconds(60));
        Assert.That(decode.ExitCode, Is.Zero, decode.ToString());
        Assert.That(decode.StandardError.Trim(), Is.Empty, "ffmpeg reported decode errors:\n" + decode.StandardError);
        var duration = await ProbeDurationAsync(recordingUrl);
        Assert.That(duration, Is.EqualTo(8).Within(2.0), "the recording lasts what was sent, within one segment");

        // A recording can be deleted through the API, and is gone from disk and from the list.
        var id = livestream.GetProperty("id").GetString()!;
        var session = recording.GetProperty("id").GetString()!;
        using (var delete = Request(HttpMethod.Delete, server, $"v1/livestreams/{id}/recordings/{session}"))
        using (var deleted = await server.Http.SendAsync(delete))
        {
            Assert.That(deleted.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        }

        Assert.That(await ListAsync(server, livestream), Is.Empty);
        using var gone = await server.Http.GetAsync(new Uri(recordingUrl));
        Assert.That(gone.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task KillMinus9MidStream_PlaylistOnDiskIsValid_AndTheRestartFinalizesIt()
    {
        var server = await ServerProcess.StartAsync(dataDirectory: _data);
        JsonElement livestream;
        string folder;
        string[] listed;
        try
        {
            livestream = await CreateAsync(server, record: true);
            using var publisher = Ffmpeg.StartPublishing(livestream.GetProperty("upstreamUrl").GetString()!, seconds: 60, out _);
            try
            {
                await WaitForRecordingAsync(server, livestream, r => r.GetProperty("segments").GetInt32() >= 3);
                server.Process.Kill(); // SIGKILL: no shutdown code runs.
                await server.Process.WaitForExitAsync();
            }
            finally
            {
                ProcessRunner.KillQuietly(publisher);
            }

            var playbackId = livestream.GetProperty("playbackId").GetString()!;
            folder = Directory.GetDirectories(Path.Combine(_data, "recordings", playbackId)).Single();
            var playlist = await File.ReadAllTextAsync(Path.Combine(folder, "index.m3u8"));
            Assert.That(playlist, Does.StartWith("#EXTM3U\n").And.Contain("#EXT-X-PLAYLIST-TYPE:EVENT\n").And.Not.Contain("#EXT-X-ENDLIST"));
            listed = playlist.Split('\n').Where(l => l.EndsWith(".ts", StringComparison.Ordinal)).ToArray();
            Assert.That(listed, Has.Length.GreaterThanOrEqualTo(3), playlist);
            Assert.That(Regex.Count(playlist, "#EXTINF:"), Is.EqualTo(listed.Length), playlist);
            foreach (var segment in listed)
            {
                // Every listed segment is complete: it decodes on its own without an error.
                var decode = await Ffmpeg.DecodeAsync(Path.Combine(folder, segment), TimeSpan.FromSeconds(30));
                Assert.That(decode.ExitCode, Is.Zero, decode.ToString());
                Assert.That(decode.StandardError.Trim(), Is.Empty, $"{segment}: {decode.StandardError}");
            }
        }
        finally
        {
            await server.DisposeAsyncKeepData();
        }

        // The next start finalizes the session: VOD with every segment that was listed, playable from the API's URL.
        await using var restarted = await ServerProcess.StartAsync(dataDirectory: _data);
        var recordings = await ListAsync(restarted, livestream);
        Assert.That(recordings, Has.Count.EqualTo(1));
        Assert.That(recordings[0].GetProperty("status").GetString(), Is.EqualTo("complete"), recordings[0].ToString());
        Assert.That(recordings[0].GetProperty("segments").GetInt32(), Is.EqualTo(listed.Length));
        var url = recordings[0].GetProperty("url").GetString()!;
        var final = await restarted.Http.GetStringAsync(new Uri(url));
        Assert.That(final, Does.Contain("#EXT-X-PLAYLIST-TYPE:VOD\n").And.EndWith("#EXT-X-ENDLIST\n"));
        var full = await Ffmpeg.DecodeAsync(url, TimeSpan.FromSeconds(60));
        Assert.That(full.ExitCode, Is.Zero, full.ToString());
        Assert.That(full.StandardError.Trim(), Is.Empty, full.StandardError);
        Assert.That(Directory.GetFiles(folder, "*.tmp"), Is.Empty);
    }

    [Test]
    public async Task SignedLivestream_RecordingNeedsAToken()
    {
        await using var server = await ServerProcess.StartAsync(dataDirectory: _data);
        var livestream = await CreateAsync(server, record: true, playbackPolicy: "signed");
        var publish = await Ffmpeg.PublishAsync(livestream.GetProperty("upstreamUrl").GetString()!, seconds: 5, realtime: false);
        Assert.That(publish.ExitCode, Is.Zero, publish.ToString());
        await WaitForRecordingAsync(server, livestream, r => r.GetProperty("status").GetString() == "complete");
        var recordingUrl = livestream.GetProperty("recordingUrl").GetString()!;

        using (var anonymous = await server.Http.GetAsync(new Uri(recordingUrl)))
        {
            Assert.That(anonymous.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        }

        // In a URL only a playback token is accepted: the API token is refused there, the one minted for it plays.
        using (var apiTokenInUrl = await server.Http.GetAsync(new Uri(recordingUrl + "?token=" + Uri.EscapeDataString(_token))))
        {
            Assert.That(apiTokenInUrl.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        }

        using var mint = Request(HttpMethod.Post, server, $"v1/livestreams/{livestream.GetProperty("id").GetString()}/playback-tokens");
        using var minted = await server.Http.SendAsync(mint);
        var tokens = JsonDocument.Parse(await minted.Content.ReadAsStringAsync()).RootElement;
        var withToken = tokens.GetProperty("recordingUrl").GetString()!;
        var query = "?token=" + Uri.EscapeDataString(tokens.GetProperty("token").GetString()!);
        Assert.That(withToken, Is.EqualTo(recordingUrl + query));
        var playlist = await server.Http.GetStringAsync(new Uri(withToken));
        var segment = playlist.Split('\n').First(l => l.Contains(".ts", StringComparison.Ordinal));
        Assert.That(segment, Does.EndWith(query), "the token is carried into segment URIs");
        using (var bare = await server.Http.GetAsync(new Uri(new Uri(recordingUrl), segment.Split('?')[0])))
        {
            Assert.That(bare.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        }

        var decode = await Ffmpeg.DecodeAsync(withToken, TimeSpan.FromSeconds(60));
        Assert.That(decode.ExitCode, Is.Zero, decode.ToString());
    }

    private async Task<JsonElement> CreateAsync(ServerProcess server, bool record, string playbackPolicy = "public", object? recordingLimits = null)
    {
        using var request = Request(HttpMethod.Post, server, "v1/livestreams");
        request.Content = JsonContent.Create(new { name = "recorded", record, playbackPolicy, recordingLimits });
        using var response = await server.Http.SendAsync(request);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    private async Task<List<JsonElement>> ListAsync(ServerProcess server, JsonElement livestream)
    {
        using var request = Request(HttpMethod.Get, server, $"v1/livestreams/{livestream.GetProperty("id").GetString()}/recordings");
        using var response = await server.Http.SendAsync(request);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        return [.. body.GetProperty("data").EnumerateArray().Select(e => e.Clone())];
    }

    private async Task<JsonElement> WaitForRecordingAsync(ServerProcess server, JsonElement livestream, Func<JsonElement, bool> ready)
    {
        var stopwatch = Stopwatch.StartNew();
        var last = new List<JsonElement>();
        while (stopwatch.Elapsed < TimeSpan.FromSeconds(30))
        {
            last = await ListAsync(server, livestream);
            if (last.Count == 1 && ready(last[0]))
            {
                return last[0];
            }

            await Task.Delay(250);
        }

        Assert.Fail($"the recording did not get there: {string.Join(",", last)}\n{server.Log}");
        return default;
    }

    private HttpRequestMessage Request(HttpMethod method, ServerProcess server, string path)
    {
        var request = new HttpRequestMessage(method, new Uri(server.HttpBase, path));
        request.Headers.TryAddWithoutValidation("Authorization", _token);
        return request;
    }

    private static async Task<double> ProbeDurationAsync(string url)
    {
        var probe = await Ffmpeg.ProbeAsync(url, "-show_entries", "format=duration", "-of", "csv=p=0");
        Assert.That(probe.ExitCode, Is.Zero, probe.ToString());
        return double.Parse(probe.StandardOutput.Trim(), CultureInfo.InvariantCulture);
    }
}
