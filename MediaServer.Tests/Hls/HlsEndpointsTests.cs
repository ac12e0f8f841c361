using System.Net;
using MediaServer.Hls;
using MediaServer.Hls.Serving;
using MediaServer.Hls.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using static MediaServer.Tests.Hls.HlsTestKit;

namespace MediaServer.Tests.Hls;

[NonParallelizable]
public class HlsEndpointsTests
{
    private WebApplication _app = null!;
    private HttpClient _client = null!;
    private HlsStreamStore _store = null!;
    private HlsStream _stream = null!;
    private TestAuthorizer _authorizer = null!;
    private byte[] _segmentBytes = null!;

    [OneTimeSetUp]
    public async Task StartServer()
    {
        _store = new HlsStreamStore(Options());
        _authorizer = new TestAuthorizer();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(_store);
        builder.Services.AddSingleton<IPlaybackAuthorizer>(_authorizer);
        _app = builder.Build();
        _app.MapHls();
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _client = new HttpClient { BaseAddress = new Uri(address) };

        _stream = new HlsStream("cam", Options(), sessionId: "abc");
        _store.Add(_stream);
        _segmentBytes = new byte[188 * 1100]; // ~206 KB: four chunks
        new Random(7).NextBytes(_segmentBytes);
        var buffer = new SegmentBuffer();
        for (var offset = 0; offset < _segmentBytes.Length; offset += 188)
        {
            _segmentBytes.AsSpan(offset, 188).CopyTo(buffer.GetSpan(188));
            buffer.Advance(188);
        }

        _stream.AddSegment(2, 2000, false, Epoch, buffer);
        _store.Add(new HlsStream("empty", Options()));
    }

    [OneTimeTearDown]
    public async Task StopServer()
    {
        _client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _store.Dispose();
        _stream.Dispose();
    }

    [SetUp]
    public void Reset() => _authorizer.Decision = PlaybackAuthorization.Allow;

    [Test]
    public async Task GetMultivariantPlaylist_KnownStream_PointsAtTheMediaPlaylistWithABandwidth()
    {
        using var response = await _client.GetAsync("/live/cam/index.m3u8");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo("application/vnd.apple.mpegurl"));
        Assert.That(response.Headers.CacheControl!.NoCache, Is.True);
        Assert.That(response.Headers.GetValues("Access-Control-Allow-Origin"), Is.EqualTo(new[] { "*" }));
        var text = await response.Content.ReadAsStringAsync();
        Assert.That(text, Is.EqualTo(System.Text.Encoding.UTF8.GetString(_stream.MultivariantPlaylist!)));
        // 206,800 bytes in 2 s → 827,200 bit/s, peak and average alike.
        Assert.That(text, Does.Contain("#EXT-X-STREAM-INF:BANDWIDTH=827200,AVERAGE-BANDWIDTH=827200\nstream.m3u8\n"));
    }

    [Test]
    public async Task GetPlaylist_KnownStream_ServesRenderedBytesWithHeaders()
    {
        using var response = await _client.GetAsync("/live/cam/stream.m3u8");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo("application/vnd.apple.mpegurl"));
        Assert.That(response.Headers.CacheControl!.NoCache, Is.True);
        Assert.That(response.Headers.GetValues("Access-Control-Allow-Origin"), Is.EqualTo(new[] { "*" }));
        Assert.That(await response.Content.ReadAsByteArrayAsync(), Is.EqualTo(_stream.Playlist));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain("\nabc-0.ts\n"));
    }

    [Test]
    public async Task GetSegment_Known_StreamsPooledBytesAsImmutable()
    {
        using var response = await _client.GetAsync("/live/cam/abc-0.ts");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo("video/mp2t"));
        Assert.That(response.Content.Headers.ContentLength, Is.EqualTo(_segmentBytes.Length));
        Assert.That(response.Headers.CacheControl!.ToString(), Is.EqualTo("public, max-age=31536000, immutable"));
        Assert.That(response.Headers.GetValues("Access-Control-Allow-Origin"), Is.EqualTo(new[] { "*" }));
        Assert.That(await response.Content.ReadAsByteArrayAsync(), Is.EqualTo(_segmentBytes));
        Assert.That(_stream.GetWindow()[0].Buffer.RefCount, Is.EqualTo(1), "the request's lease was returned");
    }

    // The segment is 206,800 bytes over four 64 KiB chunks; ranges cross chunk edges.
    [TestCase("bytes=0-65535", 0, 65536, TestName = "GetSegment_FirstBytesRange_206WithThoseBytes")]
    [TestCase("bytes=65530-131080", 65530, 65551, TestName = "GetSegment_RangeAcrossChunks_206WithThoseBytes")]
    [TestCase("bytes=200000-", 200000, 6800, TestName = "GetSegment_OpenEndedRange_206ToTheEnd")]
    [TestCase("bytes=200000-999999", 200000, 6800, TestName = "GetSegment_RangePastTheEnd_206ClampedToTheEnd")]
    [TestCase("bytes=-100", 206700, 100, TestName = "GetSegment_SuffixRange_206WithTheLastBytes")]
    [TestCase("bytes=-999999", 0, 206800, TestName = "GetSegment_SuffixLongerThanTheSegment_206WithAll")]
    public async Task GetSegment_SingleRange(string range, int start, int count)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/live/cam/abc-0.ts");
        request.Headers.TryAddWithoutValidation("Range", range);
        using var response = await _client.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.PartialContent));
        Assert.That(response.Content.Headers.ContentRange!.ToString(), Is.EqualTo($"bytes {start}-{start + count - 1}/{_segmentBytes.Length}"));
        Assert.That(response.Content.Headers.ContentLength, Is.EqualTo(count));
        Assert.That(await response.Content.ReadAsByteArrayAsync(), Is.EqualTo(_segmentBytes.AsSpan(start, count).ToArray()));
        Assert.That(_stream.GetWindow()[0].Buffer.RefCount, Is.EqualTo(1), "the request's lease was returned");
    }

    [TestCase("bytes=206800-", TestName = "GetSegment_RangeStartingAtTheEnd_416")]
    [TestCase("bytes=-0", TestName = "GetSegment_EmptySuffixRange_416")]
    public async Task GetSegment_UnsatisfiableRange_416WithTheLength(string range)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/live/cam/abc-0.ts");
        request.Headers.TryAddWithoutValidation("Range", range);
        using var response = await _client.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.RequestedRangeNotSatisfiable));
        Assert.That(response.Content.Headers.ContentRange!.ToString(), Is.EqualTo($"bytes */{_segmentBytes.Length}"));
        Assert.That(await response.Content.ReadAsByteArrayAsync(), Is.Empty);
    }

    [TestCase("Range", "bytes=0-9,20-29", TestName = "GetSegment_SeveralRanges_200Whole")]
    [TestCase("Range", "items=0-9", TestName = "GetSegment_OtherRangeUnit_200Whole")]
    [TestCase("Range", "bytes=9-1", TestName = "GetSegment_MalformedRange_200Whole")]
    [TestCase("If-Range", "\"abc\"", TestName = "GetSegment_RangeWithIfRange_200Whole")]
    public async Task GetSegment_RangeNotServed_200Whole(string header, string value)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/live/cam/abc-0.ts");
        request.Headers.TryAddWithoutValidation(header, value);
        if (header != "Range")
        {
            request.Headers.TryAddWithoutValidation("Range", "bytes=0-9");
        }

        using var response = await _client.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Headers.AcceptRanges, Is.EquivalentTo(new[] { "bytes" }));
        Assert.That(await response.Content.ReadAsByteArrayAsync(), Is.EqualTo(_segmentBytes));
    }

    [Test]
    public async Task HeadSegment_WithRange_IgnoresIt200WholeLengthNoBody()
    {
        // RFC 9110 §14.2: range handling is defined for GET only.
        using var request = new HttpRequestMessage(HttpMethod.Head, "/live/cam/abc-0.ts");
        request.Headers.TryAddWithoutValidation("Range", "bytes=10-19");
        using var response = await _client.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentLength, Is.EqualTo(_segmentBytes.Length));
        Assert.That(await response.Content.ReadAsByteArrayAsync(), Is.Empty);
    }

    [Test]
    public async Task HeadSegment_Known_HasLengthAndNoBody()
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, "/live/cam/abc-0.ts");
        using var response = await _client.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentLength, Is.EqualTo(_segmentBytes.Length));
        Assert.That(await response.Content.ReadAsByteArrayAsync(), Is.Empty);
    }

    [Test]
    public async Task HeadPlaylist_Known_HasLengthAndNoBody()
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, "/live/cam/stream.m3u8");
        using var response = await _client.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentLength, Is.EqualTo(_stream.Playlist!.Length));
    }

    [TestCase("/live/nope/index.m3u8", TestName = "Get_UnknownStreamPlaylist_404")]
    [TestCase("/live/empty/index.m3u8", TestName = "Get_PlaylistBeforeFirstSegment_404")]
    [TestCase("/live/empty/stream.m3u8", TestName = "Get_MediaPlaylistBeforeFirstSegment_404")]
    [TestCase("/live/cam/abc-1.ts", TestName = "Get_SegmentNotYetThere_404")]
    [TestCase("/live/cam/old-0.ts", TestName = "Get_SegmentOfAnotherSession_404")]
    [TestCase("/live/cam/abc-x.ts", TestName = "Get_MalformedSegmentName_404")]
    [TestCase("/live/cam/0.ts", TestName = "Get_SegmentNameWithoutSession_404")]
    [TestCase("/live/nope/abc-0.ts", TestName = "Get_SegmentOfUnknownStream_404")]
    public async Task Get_Unknown_IsNotFoundWithCors(string path)
    {
        using var response = await _client.GetAsync(path);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(response.Headers.GetValues("Access-Control-Allow-Origin"), Is.EqualTo(new[] { "*" }));
    }

    [TestCase("/live/cam/index.m3u8")]
    [TestCase("/live/cam/abc-0.ts")]
    public async Task Options_Preflight_AllowsGetAndAuthorizationHeader(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, path);
        request.Headers.Add("Origin", "https://player.example");
        request.Headers.Add("Access-Control-Request-Method", "GET");
        request.Headers.Add("Access-Control-Request-Headers", "authorization");
        using var response = await _client.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That(response.Headers.GetValues("Access-Control-Allow-Origin"), Is.EqualTo(new[] { "*" }));
        Assert.That(string.Join(",", response.Headers.GetValues("Access-Control-Allow-Methods")), Does.Contain("GET"));
        Assert.That(string.Join(",", response.Headers.GetValues("Access-Control-Allow-Headers")), Does.Contain("Authorization"));
    }

    [Test]
    public async Task Get_AuthorizerDenies_IsForbidden()
    {
        _authorizer.Decision = PlaybackAuthorization.Deny;

        using var playlist = await _client.GetAsync("/live/cam/index.m3u8");
        using var segment = await _client.GetAsync("/live/cam/abc-0.ts");

        Assert.That(playlist.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(segment.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(_authorizer.Seen, Does.Contain((HlsResourceKind.Segment, "cam")));
    }

    [Test]
    public async Task Get_AuthorizerChallenges_IsUnauthorizedWithBearerChallenge()
    {
        _authorizer.Decision = PlaybackAuthorization.Challenge;

        using var playlist = await _client.GetAsync("/live/cam/index.m3u8");
        using var segment = await _client.GetAsync("/live/cam/abc-0.ts");

        Assert.That(playlist.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(segment.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(playlist.Headers.WwwAuthenticate.ToString(), Is.EqualTo("Bearer"));
        Assert.That(playlist.Headers.CacheControl?.NoStore, Is.True);
    }

    [Test]
    public async Task GetPlaylist_AuthorizerPropagatesToken_AppendsItToSegmentUris()
    {
        _authorizer.Decision = new PlaybackAuthorization(true, "token=t0k");

        var text = await _client.GetStringAsync("/live/cam/stream.m3u8?token=t0k");
        var multivariant = await _client.GetStringAsync("/live/cam/index.m3u8?token=t0k");

        Assert.That(text, Does.Contain("\nabc-0.ts?token=t0k\n"));
        Assert.That(multivariant, Does.Contain("\nstream.m3u8?token=t0k\n"));
    }

    private sealed class TestAuthorizer : IPlaybackAuthorizer
    {
        public PlaybackAuthorization Decision { get; set; } = PlaybackAuthorization.Allow;

        public System.Collections.Concurrent.ConcurrentBag<(HlsResourceKind, string)> Seen { get; } = [];

        public ValueTask<PlaybackAuthorization> AuthorizeAsync(HttpContext context, string streamId, HlsResourceKind kind)
        {
            Seen.Add((kind, streamId));
            return ValueTask.FromResult(Decision);
        }
    }
}
