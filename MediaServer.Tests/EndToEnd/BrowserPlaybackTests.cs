using System.Net.Http.Json;
using System.Text.Json;
using MediaServer.Tests.Infrastructure;

namespace MediaServer.Tests.EndToEnd;

/// <summary>
/// Browser playback where it is the question: headless Chromium with hls.js and with video.js (the product
/// page's HTML snippet, Authorization header added in <c>videojs.Hls.xhr.beforeRequest</c>).
/// </summary>
[TestFixture]
[NonParallelizable]
public class BrowserPlaybackTests
{
    [Test]
    public async Task OpenServer_HlsJsPlaysTheLiveStream()
    {
        await using var server = await ServerProcess.StartAsync();
        using var publisher = Ffmpeg.StartPublishing(server.RtmpUrl("live", "test"), seconds: 60, out _);
        try
        {
            await WaitForSegmentsAsync(server, server.HlsUrl("test"), null);
            var playback = await BrowserPlayer.PlayAsync("hls", server.HlsUrl("test"), null, seconds: 3);
            Assert.That(playback.Ok, Is.True, playback.Raw);
            Assert.That(playback.VideoWidth, Is.EqualTo(640));
        }
        finally
        {
            ProcessRunner.KillQuietly(publisher);
        }
    }

    [Test]
    public async Task SignedLivestream_PlaysWithTheAuthorizationHeader_AndNotWithout()
    {
        var data = Path.Combine(Path.GetTempPath(), "mediaserver-tests", "browser-" + Guid.NewGuid().ToString("N"));
        var (apiKey, _) = await ServerCli.CreateApiKeyAsync(data);
        var token = await ServerCli.TokenAsync(data, apiKey);
        await using var server = await ServerProcess.StartAsync(dataDirectory: data);

        using var create = new HttpRequestMessage(HttpMethod.Post, new Uri(server.HttpBase, "v1/livestreams"))
        {
            Content = JsonContent.Create(new { name = "signed", playbackPolicy = "signed" }),
        };
        create.Headers.TryAddWithoutValidation("Authorization", token);
        using var created = await server.Http.SendAsync(create);
        var body = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement;
        var downstream = body.GetProperty("downstreamUrl").GetString()!;

        using var publisher = Ffmpeg.StartPublishing(body.GetProperty("upstreamUrl").GetString()!, seconds: 90, out _);
        try
        {
            await WaitForSegmentsAsync(server, downstream, token);

            using (var anonymous = await server.Http.GetAsync(new Uri(downstream)))
            {
                Assert.That((int)anonymous.StatusCode, Is.EqualTo(401), "a signed playlist needs a token");
            }

            // Players that cannot send headers (Safari's native player) pass ?token=, a playback token (an API token
            // is refused in a URL); the playlist carries it on.
            using var mint = new HttpRequestMessage(HttpMethod.Post, new Uri(server.HttpBase, $"v1/livestreams/{body.GetProperty("id").GetString()}/playback-tokens"));
            mint.Headers.TryAddWithoutValidation("Authorization", token);
            using var minted = await server.Http.SendAsync(mint);
            var playbackToken = JsonDocument.Parse(await minted.Content.ReadAsStringAsync()).RootElement.GetProperty("token").GetString()!;
            var query = "?token=" + Uri.EscapeDataString(playbackToken);
            var multivariant = await server.Http.GetStringAsync(new Uri(downstream + query));
            Assert.That(multivariant, Does.Contain("\nstream.m3u8" + query + "\n"));
            var playlist = await server.Http.GetStringAsync(new Uri(ServerProcess.MediaPlaylistOf(downstream) + query));
            var segment = playlist.Split('\n').First(line => !line.StartsWith('#') && line.Contains(".ts", StringComparison.Ordinal)); // a segment URI line (EXT-X-PART tags carry parts)
            Assert.That(segment, Does.EndWith(query));
            using (var withToken = await server.Http.GetAsync(new Uri(new Uri(downstream), segment)))
            {
                Assert.That((int)withToken.StatusCode, Is.EqualTo(200));
            }

            using (var bareSegment = await server.Http.GetAsync(new Uri(new Uri(downstream), segment.Split('?')[0])))
            {
                Assert.That((int)bareSegment.StatusCode, Is.EqualTo(401), "segments of a signed stream need the token too");
            }

            var (otherKey, _) = await ServerCli.CreateApiKeyAsync(data);
            using (var foreign = new HttpRequestMessage(HttpMethod.Get, downstream))
            {
                foreign.Headers.TryAddWithoutValidation("Authorization", await ServerCli.TokenAsync(data, otherKey));
                using var refused = await server.Http.SendAsync(foreign);
                Assert.That((int)refused.StatusCode, Is.EqualTo(403), "a token of another API key does not open this stream");
            }

            var hlsJs = await BrowserPlayer.PlayAsync("hls", downstream, token, seconds: 3);
            Assert.That(hlsJs.Ok, Is.True, hlsJs.Raw);

            var videoJs = await BrowserPlayer.PlayAsync("videojs", downstream, token, seconds: 3);
            Assert.That(videoJs.Ok, Is.True, videoJs.Raw);

            var withoutToken = await BrowserPlayer.PlayAsync("hls", downstream, null, seconds: 1);
            Assert.That(withoutToken.Ok, Is.False, "without the header the player must not play");
            Assert.That(withoutToken.Errors, Has.Some.EqualTo("networkError:manifestLoadError:401"),
                "refused by the server's 401, not by any other failure (a crash, a timeout): " + withoutToken.Raw);
        }
        finally
        {
            ProcessRunner.KillQuietly(publisher);
        }
    }

    private static async Task WaitForSegmentsAsync(ServerProcess server, string playlistUrl, string? token)
    {
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        while (stopwatch.Elapsed < TimeSpan.FromSeconds(30))
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, ServerProcess.MediaPlaylistOf(playlistUrl));
            if (token is not null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", token);
            }

            using var response = await server.Http.SendAsync(request);
            if (response.IsSuccessStatusCode && (await response.Content.ReadAsStringAsync()).Split("#EXTINF").Length > 3)
            {
                return;
            }

            await Task.Delay(250);
        }

        Assert.Fail("no segments appeared\n" + server.Log);
    }
}
