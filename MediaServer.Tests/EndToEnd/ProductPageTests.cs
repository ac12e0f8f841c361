using System.Text.Json;
using MediaServer.Tests.Infrastructure;

namespace MediaServer.Tests.EndToEnd;

/// <summary>
/// The product page (shared/seed) followed literally with real tools, only the host changed: each token
/// generator's token creates a livestream with the page's curl and Python calls, ffmpeg publishes as OBS
/// would (server URL + stream key), and the page's hls.js configuration plays the downstream URL.
/// </summary>
[TestFixture]
[NonParallelizable]
public class ProductPageTests
{
    private string _data = null!;
    private string _apiKey = null!;
    private string _secret = null!;
    private ServerProcess _server = null!;

    [OneTimeSetUp]
    public async Task SetUp()
    {
        _data = Path.Combine(Path.GetTempPath(), "mediaserver-tests", "page-" + Guid.NewGuid().ToString("N"));
        (_apiKey, _secret) = await ServerCli.CreateApiKeyAsync(_data);
        _server = await ServerProcess.StartAsync(dataDirectory: _data);
    }

    [OneTimeTearDown]
    public async Task TearDown() => await _server.DisposeAsync();

    private static void RequireTool(string tool, string package) =>
        Tools.RequireTool(tool, File.Exists(Path.Combine("/usr/bin", tool)), $"apt-get install -y {package}");

    private async Task<string> TokenFromAsync(string generator)
    {
        ProcessResult result;
        switch (generator)
        {
            case "node":
                result = await NodeClients.RunAsync("page-token.cjs", _apiKey, _secret);
                break;
            case "python":
                RequireTool("python3", "python3-jwt");
                result = await ProcessRunner.RunAsync("/usr/bin/python3", [Path.Combine(NodeClients.Folder, "page_token.py"), _apiKey, _secret], TimeSpan.FromSeconds(60));
                break;
            case "ruby":
                RequireTool("ruby", "ruby-jwt");
                result = await ProcessRunner.RunAsync("ruby", [Path.Combine(NodeClients.Folder, "page_token.rb"), _apiKey, _secret], TimeSpan.FromSeconds(60));
                break;
            case "java-jjwt-shape":
                // jjwt: no typ header; jti, exp, iat 60 s back, nbf now; HS256 over the secret's bytes.
                return Jwt.Sign("""{"alg":"HS256"}""",
                    $$"""{"apikey":"{{_apiKey}}","jti":"{{Guid.NewGuid()}}","exp":{{Jwt.Now(86400)}},"iat":{{Jwt.Now(-60)}},"nbf":{{Jwt.Now()}}}""", _secret);
            case "php-firebase-shape":
                return Jwt.Sign("""{"typ":"JWT","alg":"HS256"}""", $$"""{"apikey":"{{_apiKey}}"}""", _secret);
            default:
                throw new ArgumentOutOfRangeException(nameof(generator));
        }

        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        return result.StandardOutput.Trim();
    }

    [TestCase("node")]
    [TestCase("python")]
    [TestCase("ruby")]
    [TestCase("java-jjwt-shape")]
    [TestCase("php-firebase-shape")]
    public async Task TokenGenerator_CreatesALivestreamWithThePagesCurlCall(string generator)
    {
        var token = await TokenFromAsync(generator);
        var curl = await ProcessRunner.RunAsync("curl",
        [
            "-sS", "-L", "-X", "POST", new Uri(_server.HttpBase, "v1/livestreams").ToString(),
            "--header", $"Authorization: {token}",
            "--header", "Content-Type: application/json",
            "--data-raw", """
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
            """,
        ], TimeSpan.FromSeconds(30));
        Assert.That(curl.ExitCode, Is.Zero, curl.ToString());
        using var json = JsonDocument.Parse(curl.StandardOutput);
        Assert.That(json.RootElement.GetProperty("streamKey").GetString(), Is.Not.Empty, curl.StandardOutput);
    }

    [Test]
    public async Task PythonCreateSnippet_ThenObsStylePublish_ThenPagePlayerPlays()
    {
        RequireTool("python3", "python3-requests");
        var token = await TokenFromAsync("python");
        var create = await ProcessRunner.RunAsync("/usr/bin/python3", [Path.Combine(NodeClients.Folder, "create.py"), _server.HttpBase.ToString().TrimEnd('/'), token], TimeSpan.FromSeconds(60));
        Assert.That(create.ExitCode, Is.Zero, create.ToString());
        using var json = JsonDocument.Parse(create.StandardOutput);
        var livestream = json.RootElement;

        // OBS: Server = streamUrl, Stream Key = streamKey; it connects to server + "/" + key.
        var obsUrl = livestream.GetProperty("streamUrl").GetString()!.TrimEnd('/') + "/" + livestream.GetProperty("streamKey").GetString();
        using var publisher = Ffmpeg.StartPublishing(obsUrl, seconds: 60, out _);
        try
        {
            var downstream = livestream.GetProperty("downstreamUrl").GetString()!;
            var stopwatch = System.Diagnostics.Stopwatch.StartNew();
            while (stopwatch.Elapsed < TimeSpan.FromSeconds(30))
            {
                using var r = await _server.Http.GetAsync(new Uri(ServerProcess.MediaPlaylistOf(downstream)));
                if (r.IsSuccessStatusCode && (await r.Content.ReadAsStringAsync()).Split("#EXTINF").Length > 2)
                {
                    break;
                }

                await Task.Delay(250);
            }

            var playback = await BrowserPlayer.PlayAsync("hls-page", downstream, null, seconds: 3);
            Assert.That(playback.Ok, Is.True, playback.Raw);
        }
        finally
        {
            ProcessRunner.KillQuietly(publisher);
        }
    }
}
