using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using MediaServer.Host.Recording;
using MediaServer.Tests.Infrastructure;

namespace MediaServer.Tests.EndToEnd;

/// <summary>
/// Requests meant to make the server work for nothing: a large chunked API body is refused with 413 before it is
/// parsed, and an unauthorized request for a signed livestream's recordings is answered without reading its files.
/// </summary>
[TestFixture]
[NonParallelizable]
public class ApiAbuseTests
{
    private const int Sessions = 300;
    private const int EntriesPerPlaylist = 2000; // ~40 KB per session playlist, ~12 MB in all

    private ServerProcess _server = null!;
    private string _token = null!;

    [OneTimeSetUp]
    public async Task SetUp()
    {
        var data = Path.Combine(Path.GetTempPath(), "mediaserver-tests", "abuse-" + Guid.NewGuid().ToString("N"));
        var (key, _) = await ServerCli.CreateApiKeyAsync(data);
        _token = await ServerCli.TokenAsync(data, key);
        _server = await ServerProcess.StartAsync(dataDirectory: data);
    }

    [OneTimeTearDown]
    public async Task TearDown() => await _server.DisposeAsync();

    [Test]
    public async Task ChunkedBodyOf1MB_RefusedWith413()
    {
        var json = "{\"name\":\"" + new string('a', 1024 * 1024) + "\"}";
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_server.HttpBase, "v1/livestreams"));
        request.Headers.TryAddWithoutValidation("Authorization", _token);
        request.Headers.TransferEncodingChunked = true;
        request.Content = new StreamContent(new NonSeekableStream(Encoding.UTF8.GetBytes(json)));
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        HttpStatusCode status;
        try
        {
            using var response = await _server.Http.SendAsync(request);
            status = response.StatusCode;
            Assert.That(request.Content.Headers.ContentLength, Is.Null, "sent chunked, without a length");
        }
        catch (HttpRequestException e)
        {
            Assert.Fail($"no answer: {e.Message}");
            return;
        }

        Assert.That(status, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge));

        // A body with a length over the limit too; a small one still works.
        using var sized = new HttpRequestMessage(HttpMethod.Post, new Uri(_server.HttpBase, "v1/livestreams"));
        sized.Headers.TryAddWithoutValidation("Authorization", _token);
        sized.Content = new StringContent(json, Encoding.UTF8, "application/json");
        using (var response = await _server.Http.SendAsync(sized))
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge));
        }

        using var small = new HttpRequestMessage(HttpMethod.Post, new Uri(_server.HttpBase, "v1/livestreams"));
        small.Headers.TryAddWithoutValidation("Authorization", _token);
        small.Content = JsonContent.Create(new { name = "small" });
        using (var response = await _server.Http.SendAsync(small))
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }
    }

    [Test]
    public async Task UnauthorizedRecordingsRequest_WithManySessions_AnsweredWithoutReadingThem()
    {
        using var create = new HttpRequestMessage(HttpMethod.Post, new Uri(_server.HttpBase, "v1/livestreams"));
        create.Headers.TryAddWithoutValidation("Authorization", _token);
        create.Content = JsonContent.Create(new { name = "many sessions", record = true, playbackPolicy = "signed" });
        using var created = await _server.Http.SendAsync(create);
        var playbackId = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("playbackId").GetString()!;
        WriteSessions(Path.Combine(_server.DataDirectory, "recordings", playbackId));
        await Task.Delay(TimeSpan.FromSeconds(2.5)); // the folder settles (LatestRecordingCache)

        var latest = new Uri(_server.HttpBase, $"recordings/{playbackId}/index.m3u8");
        var session = new Uri(_server.HttpBase, $"recordings/{playbackId}/s0001/index.m3u8");
        var segment = new Uri(_server.HttpBase, $"recordings/{playbackId}/s0001/1.ts");
        foreach (var uri in new[] { latest, session, segment })
        {
            var read = ReadBytes(_server.Process);
            using var response = await _server.Http.GetAsync(uri);
            var readByRequest = ReadBytes(_server.Process) - read;
            TestContext.Out.WriteLine($"{uri.AbsolutePath}: {(int)response.StatusCode}, {readByRequest} bytes read");
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(readByRequest, Is.LessThan(256 * 1024), "the sessions' files (12 MB) were not read");
        }

        // Authorized: the latest session is served; the session list is read once, then cached.
        var before = ReadBytes(_server.Process);
        using (var first = await AuthorizedGetAsync(latest))
        {
            Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(await first.Content.ReadAsStringAsync(), Does.Contain($"s{Sessions:D4}/1.ts"), "the newest session");
        }

        var listed = ReadBytes(_server.Process) - before;
        before = ReadBytes(_server.Process);
        using (var second = await AuthorizedGetAsync(latest))
        {
            Assert.That(second.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        var cached = ReadBytes(_server.Process) - before;
        TestContext.Out.WriteLine($"first authorized request read {listed} bytes, the second {cached}");
        Assert.That(listed, Is.GreaterThan(Sessions * 1000L), "the first lists the sessions");
        Assert.That(cached, Is.LessThan(listed / 10), "the second reads only the one playlist");
    }

    private Task<HttpResponseMessage> AuthorizedGetAsync(Uri uri)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.TryAddWithoutValidation("Authorization", _token);
        return _server.Http.SendAsync(request);
    }

    private static void WriteSessions(string folder)
    {
        var playlist = new StringBuilder("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-MEDIA-SEQUENCE:0\n");
        for (var i = 1; i <= EntriesPerPlaylist; i++)
        {
            playlist.Append(CultureInfo.InvariantCulture, $"#EXTINF:2.000,\n{i}.ts\n");
        }

        playlist.Append("#EXT-X-ENDLIST\n");
        var text = playlist.ToString();
        var start = DateTimeOffset.UtcNow.AddDays(-1);
        for (var s = 1; s <= Sessions; s++)
        {
            var id = $"s{s:D4}";
            var directory = Directory.CreateDirectory(Path.Combine(folder, id)).FullName;
            File.WriteAllText(Path.Combine(directory, RecordingWriter.PlaylistName), text);
            File.WriteAllBytes(Path.Combine(directory, "1.ts"), new byte[188]);
            var metadata = new RecordingMetadata(Path.GetFileName(folder), id, start.AddMinutes(s), start.AddMinutes(s + 1), RecordingStatus.Complete);
            File.WriteAllBytes(Path.Combine(directory, RecordingWriter.MetadataName), JsonSerializer.SerializeToUtf8Bytes(metadata, RecordingJson.Default.RecordingMetadata));
        }
    }

    /// <summary>Bytes the process has read through read system calls (files and sockets), from /proc/{pid}/io.</summary>
    private static long ReadBytes(System.Diagnostics.Process process)
    {
        var line = File.ReadAllLines($"/proc/{process.Id}/io").First(l => l.StartsWith("rchar:", StringComparison.Ordinal));
        return long.Parse(Regex.Match(line, @"\d+").Value, CultureInfo.InvariantCulture);
    }

    private sealed class NonSeekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
