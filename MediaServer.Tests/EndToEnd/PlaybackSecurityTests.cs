using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using MediaServer.Tests.Infrastructure;

namespace MediaServer.Tests.EndToEnd;

/// <summary>
/// Hostile clients against the real server over real HTTP and RTMP: playback tokens open one playback id and
/// nothing else, API tokens stay out of URLs, wrong stream keys are slowed down but never lock a correct key out,
/// racing writes lose with 409, and a signed livestream's media is never cacheable by a shared cache.
/// </summary>
[TestFixture]
[NonParallelizable]
public class PlaybackSecurityTests
{
    private string _data = null!;
    private ServerProcess _server = null!;
    private string _apiKey = null!;
    private string _secret = null!;
    private string _apiToken = null!;
    private JsonElement _signed;
    private JsonElement _otherSigned;
    private JsonElement _public;
    private Process _signedPublisher = null!;
    private Process _publicPublisher = null!;

    [OneTimeSetUp]
    public async Task SetUp()
    {
        Tools.RequireFfmpeg();
        _data = Path.Combine(Path.GetTempPath(), "mediaserver-tests", "security-" + Guid.NewGuid().ToString("N"));
        (_apiKey, _secret) = await ServerCli.CreateApiKeyAsync(_data);
        _apiToken = await ServerCli.TokenAsync(_data, _apiKey);
        _server = await ServerProcess.StartAsync(dataDirectory: _data);

        _signed = (await SendAsync(HttpMethod.Post, "v1/livestreams", """{"name":"signed","record":true,"playbackPolicy":"signed"}""")).Body;
        _otherSigned = (await SendAsync(HttpMethod.Post, "v1/livestreams", """{"name":"other","playbackPolicy":"signed"}""")).Body;
        _public = (await SendAsync(HttpMethod.Post, "v1/livestreams", """{"name":"public"}""")).Body;
        _signedPublisher = Ffmpeg.StartPublishing(_signed.GetProperty("upstreamUrl").GetString()!, seconds: 240, out _);
        _publicPublisher = Ffmpeg.StartPublishing(_public.GetProperty("upstreamUrl").GetString()!, seconds: 240, out _);

        // Both live with two segments listed, and the signed one's recording has a playlist.
        await WaitUntilAsync(async () => (await _server.MediaPlaylistAsync(PlaybackId(_public))).Split("#EXTINF").Length > 2);
        await WaitUntilAsync(async () =>
        {
            using var r = await GetAsync(ServerProcess.MediaPlaylistOf(Downstream(_signed)), authorization: _apiToken);
            return r.IsSuccessStatusCode && (await r.Content.ReadAsStringAsync()).Split("#EXTINF").Length > 2;
        });
        await WaitUntilAsync(async () =>
        {
            using var r = await GetAsync(_signed.GetProperty("recordingUrl").GetString()!, authorization: _apiToken);
            return r.IsSuccessStatusCode && (await r.Content.ReadAsStringAsync()).Contains("#EXTINF", StringComparison.Ordinal);
        });
    }

    [OneTimeTearDown]
    public async Task TearDown()
    {
        ProcessRunner.KillQuietly(_signedPublisher);
        ProcessRunner.KillQuietly(_publicPublisher);
        _signedPublisher.Dispose();
        _publicPublisher.Dispose();
        await _server.DisposeAsync();
    }

    private static string PlaybackId(JsonElement livestream) => livestream.GetProperty("playbackId").GetString()!;

    private static string Downstream(JsonElement livestream) => livestream.GetProperty("downstreamUrl").GetString()!;

    private async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> SendAsync(HttpMethod method, string path, string? json = null, string? token = null, string? ifMatch = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(_server.HttpBase, path));
        request.Headers.TryAddWithoutValidation("Authorization", token ?? _apiToken);
        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        var response = await _server.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var body = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return (response.StatusCode, body, response);
    }

    private async Task<HttpResponseMessage> GetAsync(string url, string? authorization = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        return await _server.Http.SendAsync(request);
    }

    private async Task<JsonElement> MintAsync(JsonElement livestream, string? json = null)
    {
        var (status, body, _) = await SendAsync(HttpMethod.Post, $"v1/livestreams/{livestream.GetProperty("id").GetString()}/playback-tokens", json);
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK), body.ToString());
        return body;
    }

    private static JsonElement PayloadOf(string jwt)
    {
        var part = jwt.Split('.')[1].Replace('-', '+').Replace('_', '/');
        part = part.PadRight(part.Length + ((4 - (part.Length % 4)) % 4), '=');
        return JsonDocument.Parse(Convert.FromBase64String(part)).RootElement.Clone();
    }

    private static string Query(string token) => "?token=" + Uri.EscapeDataString(token);

    [Test]
    public async Task PlaybackToken_IsRefusedByTheApi()
    {
        var token = (await MintAsync(_signed)).GetProperty("token").GetString()!;
        foreach (var path in new[] { "v1/livestreams", $"v1/livestreams/{_signed.GetProperty("id").GetString()}", $"v1/livestreams/{_signed.GetProperty("id").GetString()}/recordings" })
        {
            var (status, body, _) = await SendAsync(HttpMethod.Get, path, token: token);
            Assert.That(status, Is.EqualTo(HttpStatusCode.Unauthorized), path);
            Assert.That(body.GetProperty("detail").GetString(), Does.Contain("playback token"), body.ToString());
        }

        var (minted, _, _) = await SendAsync(HttpMethod.Post, $"v1/livestreams/{_signed.GetProperty("id").GetString()}/playback-tokens", token: token);
        Assert.That(minted, Is.EqualTo(HttpStatusCode.Unauthorized), "a viewer cannot mint tokens with a viewer token");
    }

    [Test]
    public async Task PlaybackToken_PlaysHlsAndRecording_CarriedIntoEveryUri_PrivateCache()
    {
        var minted = await MintAsync(_signed);
        var token = minted.GetProperty("token").GetString()!;
        var query = Query(token);
        Assert.That(minted.GetProperty("downstreamUrl").GetString(), Is.EqualTo(Downstream(_signed) + query));
        Assert.That(minted.GetProperty("recordingUrl").GetString(), Is.EqualTo(_signed.GetProperty("recordingUrl").GetString() + query));
        Assert.That(minted.GetProperty("rtmpPlaybackUrl").GetString(), Is.EqualTo(_signed.GetProperty("rtmpPlaybackUrl").GetString() + Uri.EscapeDataString(token)));

        using (var multivariant = await GetAsync(minted.GetProperty("downstreamUrl").GetString()!))
        {
            Assert.That(multivariant.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(multivariant.Headers.CacheControl!.Private, Is.True);
            Assert.That(multivariant.Headers.CacheControl.Public, Is.False);
            Assert.That(await multivariant.Content.ReadAsStringAsync(), Does.Contain("\nstream.m3u8" + query + "\n"));
        }

        var playlistUrl = ServerProcess.MediaPlaylistOf(Downstream(_signed)) + query;
        string playlist;
        using (var media = await GetAsync(playlistUrl))
        {
            Assert.That(media.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(media.Headers.CacheControl!.Private, Is.True);
            playlist = await media.Content.ReadAsStringAsync();
        }

        var uris = playlist.Split('\n').Where(l => l.Length > 0 && l[0] != '#').ToList();
        Assert.That(uris, Is.Not.Empty);
        Assert.That(uris, Has.All.EndWith(query), playlist);
        using (var segment = await GetAsync(new Uri(new Uri(playlistUrl), uris[^1]).ToString()))
        {
            Assert.That(segment.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(segment.Headers.CacheControl!.Private, Is.True, segment.Headers.CacheControl.ToString());
            Assert.That(segment.Headers.CacheControl.Public, Is.False);
        }

        var recordingUrl = minted.GetProperty("recordingUrl").GetString()!;
        string recording;
        using (var r = await GetAsync(recordingUrl))
        {
            Assert.That(r.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(r.Headers.CacheControl!.Private, Is.True, r.Headers.CacheControl.ToString());
            recording = await r.Content.ReadAsStringAsync();
        }

        var recorded = recording.Split('\n').Where(l => l.Length > 0 && l[0] != '#').ToList();
        Assert.That(recorded, Is.Not.Empty);
        Assert.That(recorded, Has.All.EndWith(query), recording);
        using (var r = await GetAsync(new Uri(new Uri(recordingUrl), recorded[0]).ToString()))
        {
            Assert.That(r.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(r.Headers.CacheControl!.Private, Is.True, r.Headers.CacheControl.ToString());
            Assert.That(r.Headers.CacheControl.Public, Is.False);
        }

        var decode = await Ffmpeg.DecodeAsync(playlistUrl, TimeSpan.FromSeconds(60), "-t", "2");
        Assert.That(decode.ExitCode, Is.Zero, decode.ToString());
    }

    [Test]
    public async Task PublicLivestream_SegmentsStayPublic()
    {
        var playlistUrl = ServerProcess.MediaPlaylistOf(Downstream(_public));
        var playlist = await _server.Http.GetStringAsync(playlistUrl);
        var segment = playlist.Split('\n').Last(l => l.EndsWith(".ts", StringComparison.Ordinal));
        using var r = await GetAsync(new Uri(new Uri(playlistUrl), segment).ToString());
        Assert.That(r.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(r.Headers.CacheControl!.Public, Is.True, r.Headers.CacheControl.ToString());
    }

    [Test]
    public async Task ApiToken_InAUrl_IsRefused_InTheHeader_StillPlays()
    {
        var query = Query(_apiToken);
        var urls = new[]
        {
            Downstream(_signed) + query,
            ServerProcess.MediaPlaylistOf(Downstream(_signed)) + query,
            _signed.GetProperty("recordingUrl").GetString() + query,
        };
        foreach (var url in urls)
        {
            using var r = await GetAsync(url);
            Assert.That(r.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), url);
        }

        // The product page's video.js snippet sends the API token as the Authorization header: that keeps working.
        using (var header = await GetAsync(Downstream(_signed), authorization: _apiToken))
        {
            Assert.That(header.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        var rtmp = await Ffmpeg.ProbeAsync(_signed.GetProperty("rtmpPlaybackUrl").GetString() + Uri.EscapeDataString(_apiToken.Replace("Bearer ", "", StringComparison.Ordinal)), "-show_entries", "stream=codec_name", "-of", "compact");
        Assert.That(rtmp.ExitCode, Is.Not.Zero, "RTMP play refuses an API token in its URL: " + rtmp);
        var withPlaybackToken = await Ffmpeg.ProbeAsync((await MintAsync(_signed)).GetProperty("rtmpPlaybackUrl").GetString()!, "-show_entries", "stream=codec_name", "-of", "compact");
        Assert.That(withPlaybackToken.StandardOutput, Does.Contain("codec_name=h264"), withPlaybackToken.ToString());
    }

    [Test]
    public async Task PlaybackToken_ForAnotherPlaybackId_Is403()
    {
        var other = (await MintAsync(_otherSigned)).GetProperty("token").GetString()!;
        foreach (var url in new[] { Downstream(_signed) + Query(other), _signed.GetProperty("recordingUrl").GetString() + Query(other) })
        {
            using var r = await GetAsync(url);
            Assert.That(r.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden), url);
        }

        using (var header = await GetAsync(Downstream(_signed), authorization: "Bearer " + other))
        {
            Assert.That(header.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden), "in the header too");
        }

        var rtmp = await Ffmpeg.ProbeAsync(_signed.GetProperty("rtmpPlaybackUrl").GetString() + Uri.EscapeDataString(other), "-show_entries", "stream=codec_name", "-of", "compact");
        Assert.That(rtmp.ExitCode, Is.Not.Zero, "RTMP play refuses another playback id's token: " + rtmp);
    }

    [Test]
    public async Task PlaybackToken_Expired_Or_WithoutExp_Is401()
    {
        var pid = PlaybackId(_signed);
        var expired = Jwt.Sign("""{"alg":"HS256","typ":"JWT"}""",
            $$"""{"apikey":"{{_apiKey}}","aud":"playback","sub":"{{pid}}","iat":{{Jwt.Now(-3600)}},"exp":{{Jwt.Now(-600)}}}""", _secret);
        var noExp = Jwt.Sign("""{"alg":"HS256","typ":"JWT"}""", $$"""{"apikey":"{{_apiKey}}","aud":"playback","sub":"{{pid}}"}""", _secret);
        var valid = Jwt.Sign("""{"alg":"HS256","typ":"JWT"}""", $$"""{"apikey":"{{_apiKey}}","aud":"playback","sub":"{{pid}}","exp":{{Jwt.Now(600)}}}""", _secret);
        foreach (var (token, expected) in new[] { (expired, HttpStatusCode.Unauthorized), (noExp, HttpStatusCode.Unauthorized), (valid, HttpStatusCode.OK) })
        {
            using var r = await GetAsync(Downstream(_signed) + Query(token));
            Assert.That(r.StatusCode, Is.EqualTo(expected), PayloadOf(token).ToString());
        }
    }

    [TestCase("""{"expiresIn":0}""")]
    [TestCase("""{"expiresIn":-5}""")]
    [TestCase("""{"expiresIn":604801}""")]
    [TestCase("""{"expiresIn":1.5}""")]
    [TestCase("""{expiresIn""")]
    [TestCase("""[1]""")]
    public async Task PlaybackTokens_BadExpiresIn_Is400(string json)
    {
        var (status, body, _) = await SendAsync(HttpMethod.Post, $"v1/livestreams/{_signed.GetProperty("id").GetString()}/playback-tokens", json);
        Assert.That(status, Is.EqualTo(HttpStatusCode.BadRequest), body.ToString());
        Assert.That(body.GetProperty("errors").EnumerateObject().Count(), Is.GreaterThan(0), body.ToString());
    }

    [TestCase(null, 3600)]
    [TestCase("{}", 3600)]
    [TestCase("""{"expiresIn":1}""", 1)]
    [TestCase("""{"expiresIn":604800}""", 604800)]
    public async Task PlaybackTokens_ExpiresIn_SetsExp(string? json, long seconds)
    {
        var before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var minted = await MintAsync(_signed, json);
        var after = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var payload = PayloadOf(minted.GetProperty("token").GetString()!);
        var exp = payload.GetProperty("exp").GetInt64();
        Assert.Multiple(() =>
        {
            Assert.That(payload.GetProperty("aud").GetString(), Is.EqualTo("playback"));
            Assert.That(payload.GetProperty("sub").GetString(), Is.EqualTo(PlaybackId(_signed)));
            Assert.That(payload.GetProperty("apikey").GetString(), Is.EqualTo(_apiKey));
            Assert.That(exp, Is.InRange(before + seconds - 1, after + seconds));
            Assert.That(minted.GetProperty("expiresIn").GetInt64(), Is.EqualTo(seconds));
            Assert.That(minted.GetProperty("expiresAt").GetDateTimeOffset().ToUnixTimeSeconds(), Is.EqualTo(exp));
        });
    }

    [Test]
    public async Task CliTokenVerb_WithPlaybackId_MakesAPlaybackToken()
    {
        var result = await ServerCli.RunAsync(_data, "token", "--apikey", _apiKey, "--playback-id", PlaybackId(_signed), "--expires", "2h");
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        var token = result.StandardOutput.Trim();
        var payload = PayloadOf(token);
        Assert.That(payload.GetProperty("aud").GetString(), Is.EqualTo("playback"));
        Assert.That(payload.GetProperty("sub").GetString(), Is.EqualTo(PlaybackId(_signed)));
        Assert.That(payload.GetProperty("exp").GetInt64() - Jwt.Now(), Is.InRange(7200 - 120, 7200));

        using (var r = await GetAsync(Downstream(_signed) + Query(token)))
        {
            Assert.That(r.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        Assert.That((await SendAsync(HttpMethod.Get, "v1/livestreams", token: token)).Status, Is.EqualTo(HttpStatusCode.Unauthorized));

        var defaultLifetime = await ServerCli.RunAsync(_data, "token", "--apikey", _apiKey, "--playback-id", PlaybackId(_signed));
        Assert.That(PayloadOf(defaultLifetime.StandardOutput.Trim()).GetProperty("exp").GetInt64() - Jwt.Now(), Is.InRange(3600 - 120, 3600));
        foreach (var expires in new[] { "never", "8d" })
        {
            var refused = await ServerCli.RunAsync(_data, "token", "--apikey", _apiKey, "--playback-id", PlaybackId(_signed), "--expires", expires);
            Assert.That(refused.ExitCode, Is.Not.Zero, expires);
            Assert.That(refused.StandardError, Does.Contain("7d"), refused.ToString());
        }
    }

    [Test]
    public async Task PatchRacingResetStreamKey_OneOfThemGets409_AndTheOldKeyIsNeverWrittenBack()
    {
        var (_, created, _) = await SendAsync(HttpMethod.Post, "v1/livestreams", """{"name":"race"}""");
        var id = created.GetProperty("id").GetString()!;

        // Both writes based on the version read (If-Match: the ETag of the GET), sent together: one wins, one gets 409.
        var (_, read, readResponse) = await SendAsync(HttpMethod.Get, $"v1/livestreams/{id}");
        var etag = readResponse.Headers.ETag!.Tag;
        Assert.That(etag, Is.EqualTo("\"" + read.GetProperty("version").GetInt64() + "\""));
        var patch = SendAsync(HttpMethod.Patch, $"v1/livestreams/{id}", """{"name":"patched"}""", ifMatch: etag);
        var reset = SendAsync(HttpMethod.Post, $"v1/livestreams/{id}/reset-stream-key", ifMatch: etag);
        var statuses = new[] { (await patch).Status, (await reset).Status };
        Assert.That(statuses, Is.EquivalentTo(new[] { HttpStatusCode.OK, HttpStatusCode.Conflict }) | Is.EquivalentTo(new[] { HttpStatusCode.Conflict, HttpStatusCode.OK }), string.Join(",", statuses));
        var (_, after, _) = await SendAsync(HttpMethod.Get, $"v1/livestreams/{id}");
        Assert.That(after.GetProperty("version").GetInt64(), Is.EqualTo(read.GetProperty("version").GetInt64() + 1), "exactly one write went in");
        var conflict = (await patch).Status == HttpStatusCode.Conflict ? (await patch).Body : (await reset).Body;
        Assert.That(conflict.GetProperty("detail").GetString(), Does.Contain("changed"));

        // Without If-Match, concurrent requests still compare-and-swap: a PATCH never writes a reset key back.
        for (var round = 0; round < 10; round++)
        {
            var p = SendAsync(HttpMethod.Patch, $"v1/livestreams/{id}", $$"""{"name":"round{{round}}"}""");
            var r = SendAsync(HttpMethod.Post, $"v1/livestreams/{id}/reset-stream-key");
            var (resetStatus, resetBody, _) = await r;
            var (patchStatus, _, _) = await p;
            Assert.That(new[] { resetStatus, patchStatus }, Has.All.EqualTo(HttpStatusCode.OK).Or.EqualTo(HttpStatusCode.Conflict));
            var (_, now, _) = await SendAsync(HttpMethod.Get, $"v1/livestreams/{id}");
            if (resetStatus == HttpStatusCode.OK)
            {
                Assert.That(now.GetProperty("streamKey").GetString(), Is.EqualTo(resetBody.GetProperty("streamKey").GetString()), $"round {round}: the reset key stays");
            }
        }
    }

    [Test]
    public async Task CorrectKey_IsNeverRefused_After50WrongOnes_WhichAreSlowedDown()
    {
        const int wrong = 50;
        var maxDelay = TimeSpan.FromSeconds(5); // the default MediaServer:Auth:WrongKeys:MaxDelay
        var (_, created, _) = await SendAsync(HttpMethod.Post, "v1/livestreams", """{"name":"keys"}""");
        var key = created.GetProperty("streamKey").GetString()!;

        // 50 wrong keys at once from this address: every one refused with the server's BadName, counted atomically,
        // so all but the first few wait; how long is read off each answer (a lower bound: it cannot come sooner).
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var wrongKeys = Enumerable.Range(0, wrong).Select(_ => Guid.NewGuid().ToString()).ToList();
        var attempts = wrongKeys.Select(async wrongKey =>
        {
            // Awaited, not Assert.ThrowsAsync (which blocks a thread each: 50 of them starve the pool).
            var stopwatch = Stopwatch.StartNew();
            try
            {
                await using var __ = await SyntheticRtmpPublisher.StartAsync(_server.RtmpPort, "live", wrongKey, ChunkFraming.Fmt0WithContinuations, timeout.Token);
                return (Message: "accepted", Elapsed: stopwatch.Elapsed);
            }
            catch (InvalidOperationException e)
            {
                return (e.Message, Elapsed: stopwatch.Elapsed);
            }
        }).ToList();
        var answers = await Task.WhenAll(attempts);
        Assert.That(answers.Select(a => a.Message), Has.All.Contain("NetStream.Publish.BadName"));
        // 5 free, then 250 ms doubling: attempts 11 to 50 wait the full 5 s.
        Assert.That(answers.Count(a => a.Elapsed >= maxDelay * 0.95), Is.GreaterThanOrEqualTo(wrong - 10), string.Join(", ", answers.Select(a => (int)a.Elapsed.TotalMilliseconds)));

        // The correct key right after: accepted (and not made to wait the wrong keys' delay), repeatedly.
        for (var i = 0; i < 3; i++)
        {
            var stopwatch = Stopwatch.StartNew();
            await using (var publisher = await SyntheticRtmpPublisher.StartAsync(_server.RtmpPort, "live", key, ChunkFraming.Fmt0WithContinuations, timeout.Token))
            {
                Assert.That(stopwatch.Elapsed, Is.LessThan(maxDelay), "a correct key is answered without the wrong keys' delay");
            }
        }

        // The next wrong key from this address still waits the longest delay.
        var next = Stopwatch.StartNew();
        Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var _ = await SyntheticRtmpPublisher.StartAsync(_server.RtmpPort, "live", Guid.NewGuid().ToString(), ChunkFraming.Fmt0WithContinuations, timeout.Token);
        });
        Assert.That(next.Elapsed, Is.GreaterThanOrEqualTo(maxDelay * 0.95));

        // The log names refused keys by a short hash only, never the key.
        var log = _server.Log;
        Assert.That(log, Does.Contain("sha256:"));
        Assert.That(wrongKeys.Where(k => log.Contains(k, StringComparison.Ordinal)), Is.Empty);
    }

    [Test]
    public async Task DeletedSignedLivestream_ItsEndedStreamPlaysForNoOne()
    {
        var (_, created, _) = await SendAsync(HttpMethod.Post, "v1/livestreams", """{"name":"doomed","playbackPolicy":"signed"}""");
        var playlistUrl = ServerProcess.MediaPlaylistOf(Downstream(created));
        var publish = await Ffmpeg.PublishAsync(created.GetProperty("upstreamUrl").GetString()!, seconds: 3, realtime: false);
        Assert.That(publish.ExitCode, Is.Zero, publish.ToString());
        using (var before = await GetAsync(playlistUrl, authorization: _apiToken))
        {
            Assert.That(before.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the ended stream is still served for a while");
        }

        Assert.That((await SendAsync(HttpMethod.Delete, $"v1/livestreams/{created.GetProperty("id").GetString()}")).Status, Is.EqualTo(HttpStatusCode.NoContent));
        using var anonymous = await GetAsync(playlistUrl);
        using var owner = await GetAsync(playlistUrl, authorization: _apiToken);
        Assert.That(anonymous.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden), "no livestream any more must not mean public");
        Assert.That(owner.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(250);
        }

        Assert.Fail("condition not met within 60 s");
    }
}
