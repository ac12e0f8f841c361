using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MediaServer.Tests.Infrastructure;

namespace MediaServer.Tests.EndToEnd;

/// <summary>
/// The product page step by step against the real server: CLI key and token, create a livestream over
/// HTTP, publish with ffmpeg to upstreamUrl, play downstreamUrl, wrong keys refused, state kept across a
/// restart, tenants isolated, bad requests answered clearly.
/// </summary>
[TestFixture]
[NonParallelizable]
public class LivestreamsApiTests
{
    private string _data = null!;
    private ServerProcess _server = null!;
    private string _apiKey = null!;
    private string _token = null!;

    [OneTimeSetUp]
    public async Task SetUp()
    {
        _data = Path.Combine(Path.GetTempPath(), "mediaserver-tests", "api-" + Guid.NewGuid().ToString("N"));
        (_apiKey, _) = await ServerCli.CreateApiKeyAsync(_data);
        _token = await ServerCli.TokenAsync(_data, _apiKey);
        _server = await ServerProcess.StartAsync(dataDirectory: _data);
    }

    [OneTimeTearDown]
    public async Task TearDown() => await _server.DisposeAsync();

    private HttpRequestMessage Request(HttpMethod method, string path, string? json = null, string? token = null)
    {
        var request = new HttpRequestMessage(method, new Uri(_server.HttpBase, path));
        request.Headers.TryAddWithoutValidation("Authorization", token ?? _token);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        return request;
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpMethod method, string path, string? json = null, string? token = null)
    {
        using var request = Request(method, path, json, token);
        using var response = await _server.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var body = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return (response.StatusCode, body);
    }

    private const string PageBody = """
        {
            "name": "Nickname for livestream",
            "record": true,
            "restream": [
              {
                  "url": "rtmp://x.rtmp.youtube.com/live2",
                  "streamKey": "0tjp-h6a2-8c9d-vusv-01uu"
              }
            ]
        }
        """;

    [Test]
    public async Task Create_WithThePagesBody_ReturnsThePagesShape()
    {
        var (status, body) = await SendAsync(HttpMethod.Post, "v1/livestreams", PageBody);
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK), body.ToString());

        var streamKey = body.GetProperty("streamKey").GetString()!;
        var playbackId = body.GetProperty("playbackId").GetString()!;
        Assert.Multiple(() =>
        {
            Assert.That(body.GetProperty("id").GetString(), Is.Not.Empty);
            Assert.That(body.GetProperty("name").GetString(), Is.EqualTo("Nickname for livestream"));
            Assert.That(body.GetProperty("record").GetBoolean(), Is.True);
            Assert.That(Guid.TryParse(streamKey, out _), Is.True);
            Assert.That(body.GetProperty("streamUrl").GetString(), Is.EqualTo($"rtmp://127.0.0.1:{_server.RtmpPort}/live/"));
            Assert.That(body.GetProperty("upstreamUrl").GetString(), Is.EqualTo($"rtmp://127.0.0.1:{_server.RtmpPort}/live/{streamKey}"));
            Assert.That(body.GetProperty("downstreamUrl").GetString(), Is.EqualTo($"http://127.0.0.1:{_server.HttpPort}/live/{playbackId}/index.m3u8"));
            Assert.That(body.GetProperty("downstreamUrl").GetString(), Does.Not.Contain(streamKey), "the stream key is a publishing secret");
            Assert.That(body.GetProperty("recordingUrl").GetString(), Does.StartWith($"http://127.0.0.1:{_server.HttpPort}/"));
            Assert.That(body.GetProperty("rtmpPlaybackUrl").GetString(), Is.EqualTo($"rtmp://127.0.0.1:{_server.RtmpPort}/live/{playbackId}"));
            Assert.That(body.GetProperty("restream")[0].GetProperty("url").GetString(), Is.EqualTo("rtmp://x.rtmp.youtube.com/live2"));
            Assert.That(body.GetProperty("restream")[0].GetProperty("streamKey").GetString(), Is.EqualTo("0tjp-h6a2-8c9d-vusv-01uu"));
            Assert.That(body.GetProperty("status").GetString(), Is.EqualTo("idle"));
            Assert.That(body.TryGetProperty("createdAt", out _) && body.TryGetProperty("updatedAt", out _), Is.True);
        });
    }

    [Test]
    public async Task PublishToUpstreamUrl_PlaysOnDownstreamUrl_AndWrongKeyIsRefusedAtOnce()
    {
        var (_, created) = await SendAsync(HttpMethod.Post, "v1/livestreams", """{"name":"e2e","record":false}""");
        var upstream = created.GetProperty("upstreamUrl").GetString()!;
        var downstream = created.GetProperty("downstreamUrl").GetString()!;
        var id = created.GetProperty("id").GetString()!;

        using var publisher = Ffmpeg.StartPublishing(upstream, seconds: 30, out var publisherErrors);
        try
        {
            await WaitUntilAsync(async () => (await SendAsync(HttpMethod.Get, $"v1/livestreams/{id}")).Body.GetProperty("status").GetString() == "live");
            await WaitUntilAsync(async () =>
            {
                using var r = await _server.Http.GetAsync(new Uri(ServerProcess.MediaPlaylistOf(downstream)));
                return r.IsSuccessStatusCode && (await r.Content.ReadAsStringAsync()).Contains("#EXTINF", StringComparison.Ordinal);
            });
            var play = await Ffmpeg.DecodeAsync(downstream, TimeSpan.FromSeconds(60), "-live_start_index", "0");
            Assert.That(play.ExitCode, Is.Zero, play.ToString());

            // A wrong key gets the server's answer to publish, NetStream.Publish.BadName (not a timeout or a dropped
            // connection), within the client's command timeout: the refusal is identified by what the server says.
            using (var refusal = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
            {
                var wrong = Assert.ThrowsAsync<InvalidOperationException>(async () =>
                {
                    await using var _ = await SyntheticRtmpPublisher.StartAsync(_server.RtmpPort, "live", Guid.NewGuid().ToString(), ChunkFraming.Fmt0WithContinuations, refusal.Token);
                });
                Assert.That(wrong!.Message, Does.Contain("NetStream.Publish.BadName"), "a wrong stream key is refused at once by the server");
            }

            var wrongFfmpeg = await Ffmpeg.PublishAsync(created.GetProperty("streamUrl").GetString() + Guid.NewGuid(), seconds: 5, realtime: true, timeout: TimeSpan.FromSeconds(30));
            Assert.That(wrongFfmpeg.ExitCode, Is.Not.Zero, "ffmpeg with a wrong stream key is refused too");

            // Disabling a live livestream disconnects its encoder at once and ends the stream.
            Assert.That((await SendAsync(HttpMethod.Post, $"v1/livestreams/{id}/disable")).Status, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(publisher.WaitForExit(TimeSpan.FromSeconds(10)), Is.True, "the encoder was disconnected");
            await WaitUntilAsync(async () => (await SendAsync(HttpMethod.Get, $"v1/livestreams/{id}")).Body.GetProperty("status").GetString() == "idle");
        }
        finally
        {
            ProcessRunner.KillQuietly(publisher);
        }

        _ = publisherErrors;
    }

    [Test]
    public async Task RtmpPlaybackUrl_PlaysTheLiveStream_SignedNeedsTheTokenAppended()
    {
        var (_, open) = await SendAsync(HttpMethod.Post, "v1/livestreams", """{"name":"rtmp-public"}""");
        var (_, signed) = await SendAsync(HttpMethod.Post, "v1/livestreams", """{"name":"rtmp-signed","playbackPolicy":"signed"}""");
        var signedUrl = signed.GetProperty("rtmpPlaybackUrl").GetString()!;
        Assert.That(signedUrl, Does.EndWith("?token="), "a signed livestream's URL asks for a token");

        using var first = Ffmpeg.StartPublishing(open.GetProperty("upstreamUrl").GetString()!, seconds: 30, out _);
        using var second = Ffmpeg.StartPublishing(signed.GetProperty("upstreamUrl").GetString()!, seconds: 30, out _);
        try
        {
            foreach (var created in new[] { open, signed })
            {
                var id = created.GetProperty("id").GetString()!;
                await WaitUntilAsync(async () => (await SendAsync(HttpMethod.Get, $"v1/livestreams/{id}")).Body.GetProperty("status").GetString() == "live");
            }

            // RTMP has no headers, so the token goes in the URL: a playback token for this playback id.
            var (minted, tokenBody) = await SendAsync(HttpMethod.Post, $"v1/livestreams/{signed.GetProperty("id").GetString()}/playback-tokens");
            Assert.That(minted, Is.EqualTo(HttpStatusCode.OK), tokenBody.ToString());
            var token = tokenBody.GetProperty("token").GetString()!;
            var publicPlay = await Ffmpeg.ProbeAsync(open.GetProperty("rtmpPlaybackUrl").GetString()!, "-show_entries", "stream=codec_name", "-of", "compact");
            var signedPlay = await Ffmpeg.ProbeAsync(signedUrl + token, "-show_entries", "stream=codec_name", "-of", "compact");
            var withoutToken = await Ffmpeg.ProbeAsync(signedUrl, "-show_entries", "stream=codec_name", "-of", "compact");
            Assert.Multiple(() =>
            {
                Assert.That(publicPlay.StandardOutput, Does.Contain("codec_name=h264").And.Contain("codec_name=aac"), publicPlay.ToString());
                Assert.That(signedPlay.StandardOutput, Does.Contain("codec_name=h264").And.Contain("codec_name=aac"), signedPlay.ToString());
                Assert.That(withoutToken.ExitCode, Is.Not.Zero, "no token, no play: " + withoutToken);
            });
        }
        finally
        {
            ProcessRunner.KillQuietly(first);
            ProcessRunner.KillQuietly(second);
        }
    }

    [Test]
    public async Task Livestreams_SurviveARestart()
    {
        var (_, created) = await SendAsync(HttpMethod.Post, "v1/livestreams", """{"name":"durable"}""");
        var id = created.GetProperty("id").GetString()!;

        await _server.DisposeAsyncKeepData();
        _server = await ServerProcess.StartAsync(dataDirectory: _data);

        var (status, body) = await SendAsync(HttpMethod.Get, $"v1/livestreams/{id}");
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(body.GetProperty("name").GetString(), Is.EqualTo("durable"));
        Assert.That(body.GetProperty("streamKey").GetString(), Is.EqualTo(created.GetProperty("streamKey").GetString()));
    }

    [Test]
    public async Task OtherApiKey_SeesNoneOfTheseLivestreams()
    {
        var (_, mine) = await SendAsync(HttpMethod.Post, "v1/livestreams", """{"name":"mine"}""");
        var id = mine.GetProperty("id").GetString()!;
        var (otherKey, _) = await ServerCli.CreateApiKeyAsync(_data, "other");
        var otherToken = await ServerCli.TokenAsync(_data, otherKey);

        Assert.That((await SendAsync(HttpMethod.Get, $"v1/livestreams/{id}", token: otherToken)).Status, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That((await SendAsync(HttpMethod.Patch, $"v1/livestreams/{id}", """{"name":"stolen"}""", otherToken)).Status, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That((await SendAsync(HttpMethod.Delete, $"v1/livestreams/{id}", token: otherToken)).Status, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That((await SendAsync(HttpMethod.Post, $"v1/livestreams/{id}/disable", token: otherToken)).Status, Is.EqualTo(HttpStatusCode.NotFound));
        var (_, list) = await SendAsync(HttpMethod.Get, "v1/livestreams?perPage=100", token: otherToken);
        Assert.That(list.GetProperty("data").EnumerateArray().Select(l => l.GetProperty("id").GetString()), Does.Not.Contain(id));
        Assert.That((await SendAsync(HttpMethod.Get, $"v1/livestreams/{id}")).Body.GetProperty("name").GetString(), Is.EqualTo("mine"));
    }

    [Test]
    public async Task List_PatchResetDisableEnableDelete_Work()
    {
        var (_, created) = await SendAsync(HttpMethod.Post, "v1/livestreams", """{"name":"crud"}""");
        var id = created.GetProperty("id").GetString()!;

        var (_, page) = await SendAsync(HttpMethod.Get, "v1/livestreams?page=1&perPage=1");
        Assert.That(page.GetProperty("pageInfo").GetProperty("perPage").GetInt32(), Is.EqualTo(1));
        Assert.That(page.GetProperty("pageInfo").GetProperty("total").GetInt32(), Is.GreaterThanOrEqualTo(1));
        Assert.That(page.GetProperty("data").GetArrayLength(), Is.EqualTo(1));

        var (_, patched) = await SendAsync(HttpMethod.Patch, $"v1/livestreams/{id}", """{"name":"renamed","record":true,"restream":[]}""");
        Assert.That(patched.GetProperty("name").GetString(), Is.EqualTo("renamed"));
        Assert.That(patched.GetProperty("record").GetBoolean(), Is.True);

        var (_, reset) = await SendAsync(HttpMethod.Post, $"v1/livestreams/{id}/reset-stream-key");
        Assert.That(reset.GetProperty("streamKey").GetString(), Is.Not.EqualTo(created.GetProperty("streamKey").GetString()));

        Assert.That((await SendAsync(HttpMethod.Post, $"v1/livestreams/{id}/disable")).Body.GetProperty("enabled").GetBoolean(), Is.False);
        var refused = await Ffmpeg.PublishAsync(reset.GetProperty("upstreamUrl").GetString()!, seconds: 2, realtime: false);
        Assert.That(refused.ExitCode, Is.Not.Zero, "a disabled livestream refuses publishing");
        Assert.That((await SendAsync(HttpMethod.Post, $"v1/livestreams/{id}/enable")).Body.GetProperty("enabled").GetBoolean(), Is.True);

        Assert.That((await SendAsync(HttpMethod.Delete, $"v1/livestreams/{id}")).Status, Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That((await SendAsync(HttpMethod.Get, $"v1/livestreams/{id}")).Status, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task RecordingLimits_CreatePatchGet_ReplacedWholeOrLeftAlone()
    {
        var (status, created) = await SendAsync(HttpMethod.Post, "v1/livestreams", """{"name":"limits","record":true,"recordingLimits":{"maxDurationSeconds":3600,"retentionDays":30}}""");
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK), created.ToString());
        Assert.That(created.GetProperty("recordingLimits").ToString(), Is.EqualTo("""{"maxDurationSeconds":3600,"maxBytes":null,"retentionDays":30}"""));
        var id = created.GetProperty("id").GetString();

        var (_, renamed) = await SendAsync(HttpMethod.Patch, $"v1/livestreams/{id}", """{"name":"renamed"}""");
        Assert.That(renamed.GetProperty("recordingLimits").ToString(), Is.EqualTo("""{"maxDurationSeconds":3600,"maxBytes":null,"retentionDays":30}"""), "absent: left alone");
        var (_, patched) = await SendAsync(HttpMethod.Patch, $"v1/livestreams/{id}", """{"recordingLimits":{"maxBytes":1073741824}}""");
        Assert.That(patched.GetProperty("recordingLimits").ToString(), Is.EqualTo("""{"maxDurationSeconds":null,"maxBytes":1073741824,"retentionDays":null}"""), "an object replaces them all");
        var (_, got) = await SendAsync(HttpMethod.Get, $"v1/livestreams/{id}");
        Assert.That(got.GetProperty("recordingLimits").GetProperty("maxBytes").GetInt64(), Is.EqualTo(1073741824));
        var (_, cleared) = await SendAsync(HttpMethod.Patch, $"v1/livestreams/{id}", """{"recordingLimits":{}}""");
        Assert.That(cleared.GetProperty("recordingLimits").ToString(), Is.EqualTo("""{"maxDurationSeconds":null,"maxBytes":null,"retentionDays":null}"""));
        var (invalid, error) = await SendAsync(HttpMethod.Patch, $"v1/livestreams/{id}", """{"recordingLimits":{"retentionDays":-3}}""");
        Assert.That(invalid, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(error.GetProperty("errors").GetProperty("recordingLimits.retentionDays")[0].GetString(), Does.Contain("from 1 to 36500"));
    }

    [TestCase("{not json", "body")]
    [TestCase("""{"record":"yes"}""", "record")]
    [TestCase("""{"restream":[{"url":"http://example.com/live","streamKey":"k"}]}""", "restream[0].url")]
    [TestCase("""{"restream":[{"url":"rtmp://example.com/live"}]}""", "restream[0].streamKey")]
    [TestCase("""{"playbackPolicy":"secret"}""", "playbackPolicy")]
    [TestCase("""{"recordingLimits":{"maxDurationSeconds":0}}""", "recordingLimits.maxDurationSeconds")]
    [TestCase("""{"recordingLimits":{"maxDurationSeconds":31536001}}""", "recordingLimits.maxDurationSeconds")]
    [TestCase("""{"recordingLimits":{"maxDurationSeconds":1.5}}""", "recordingLimits.maxDurationSeconds")]
    [TestCase("""{"recordingLimits":{"maxBytes":-1}}""", "recordingLimits.maxBytes")]
    [TestCase("""{"recordingLimits":{"maxBytes":"1GB"}}""", "recordingLimits.maxBytes")]
    [TestCase("""{"recordingLimits":{"retentionDays":0}}""", "recordingLimits.retentionDays")]
    [TestCase("""{"recordingLimits":7}""", "recordingLimits")]
    public async Task Create_WithBadBody_Returns400NamingTheField(string json, string field)
    {
        var (status, body) = await SendAsync(HttpMethod.Post, "v1/livestreams", json);
        Assert.That(status, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(body.GetProperty("errors").TryGetProperty(field, out _), Is.True, body.ToString());
    }

    [TestCase("")]
    [TestCase("garbage")]
    [TestCase("Bearer eyJhbGciOiJub25lIn0.eyJhcGlrZXkiOiJ4In0.")]
    public async Task Request_WithoutValidToken_Returns401Json(string token)
    {
        using var request = Request(HttpMethod.Get, "v1/livestreams", token: token);
        using var response = await _server.Http.SendAsync(request);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.That(text, Does.Not.Contain("   at "), "no stack traces");
    }

    [Test]
    public async Task UnknownId_Returns404()
        => Assert.That((await SendAsync(HttpMethod.Get, "v1/livestreams/0000")).Status, Is.EqualTo(HttpStatusCode.NotFound));

    [Test]
    public async Task OpenApiDocument_DescribesTheApi()
    {
        var text = await _server.Http.GetStringAsync(new Uri(_server.HttpBase, "openapi/v1.json"));
        Assert.That(text, Does.Contain("/v1/livestreams").And.Contain("/v1/livestreams/{id}/reset-stream-key"));
    }

    [Test]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void DatabaseFile_IsReadableByItsOwnerOnly()
    {
        var mode = File.GetUnixFileMode(Path.Combine(_data, "mediaserver.db"));
        Assert.That(mode, Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        while (stopwatch.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(200);
        }

        Assert.Fail("condition not met within 30 s");
    }
}
