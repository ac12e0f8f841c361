using System.Net;
using System.Text;
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

/// <summary>
/// LL-HLS delivery over real HTTP (Kestrel on loopback): blocking playlist reload (RFC 8216bis §6.2.5.2) with every
/// rule, blocking preload-hinted parts (§6.2.6), delta updates (§6.2.5.1) and the cache headers. The stream is driven
/// by hand (parts and segments added by the test), so each rule is exercised at a known moment.
/// </summary>
[NonParallelizable]
public class LowLatencyEndpointsTests
{
    private static readonly TimeSpan PartTarget = TimeSpan.FromMilliseconds(500);
    private WebApplication _app = null!;
    private HttpClient _client = null!;
    private HlsStreamStore _store = null!;
    private Authorizer _authorizer = null!;
    private HlsMetricsTests.Recorder _recorder = null!;

    private sealed class Authorizer : IPlaybackAuthorizer
    {
        public PlaybackAuthorization Decision { get; set; } = PlaybackAuthorization.Allow;

        public ValueTask<PlaybackAuthorization> AuthorizeAsync(HttpContext context, string streamId, HlsResourceKind kind) => ValueTask.FromResult(Decision);
    }

    private static HlsOptions LowLatencyOptions(int targetSeconds = 1)
    {
        var options = Options(segmentSeconds: targetSeconds, playlistLength: 20);
        options.PartDuration = PartTarget;
        return options;
    }

    [OneTimeSetUp]
    public async Task StartServer()
    {
        _store = new HlsStreamStore(LowLatencyOptions());
        _authorizer = new Authorizer();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(_store);
        builder.Services.AddSingleton<IPlaybackAuthorizer>(_authorizer);
        _recorder = new HlsMetricsTests.Recorder();
        builder.Services.AddSingleton(_recorder.Metrics);
        _app = builder.Build();
        _app.MapHls();
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _client = new HttpClient { BaseAddress = new Uri(address) };
    }

    [OneTimeTearDown]
    public async Task StopServer()
    {
        _client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _store.Dispose();
        _recorder.Dispose();
    }

    [SetUp]
    public void Reset() => _authorizer.Decision = PlaybackAuthorization.Allow;

    /// <summary>A hand-driven LL stream: <see cref="Part"/> appends a part to the open segment, <see cref="CloseSegment"/> completes it.</summary>
    private sealed class Driver(HlsStream stream)
    {
        private SegmentBuffer _buffer = new();
        private readonly List<SegmentPart> _parts = [];
        private long _sequence;

        public HlsStream Stream => stream;

        public byte[] Part(bool independent = false, byte fill = 0x47)
        {
            var bytes = new byte[376];
            Array.Fill(bytes, fill);
            var offset = _buffer.Length;
            bytes.CopyTo(_buffer.GetSpan(bytes.Length));
            _buffer.Advance(bytes.Length);
            var part = new SegmentPart(_sequence, _parts.Count, _buffer, offset, bytes.Length, 500, independent || _parts.Count == 0);
            _parts.Add(part);
            stream.AddPart(part);
            return bytes;
        }

        public void CloseSegment()
        {
            stream.AddSegment(1, _parts.Count * 500L, false, Epoch.AddSeconds(_sequence), _buffer, [.. _parts]);
            _buffer = new SegmentBuffer();
            _parts.Clear();
            _sequence++;
        }
    }

    private Driver NewStream(string id)
    {
        var stream = new HlsStream(id, LowLatencyOptions(), sessionId: "s");
        _store.Add(stream);
        var driver = new Driver(stream);
        driver.Part();
        driver.Part();
        driver.CloseSegment(); // segment 0: parts 0.0, 0.1; the target duration is fixed (1 s)
        return driver;
    }

    private async Task<(HttpStatusCode Status, string Body, HttpResponseMessage Response)> GetAsync(string path)
    {
        var response = await _client.GetAsync(path);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response);
    }

    [Test]
    public async Task Playlist_LowLatency_ListsPartsServerControlAndThePreloadHint()
    {
        var driver = NewStream("ll-tags");
        driver.Part(independent: true);

        var (status, body, response) = await GetAsync("/live/ll-tags/stream.m3u8");

        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Headers.CacheControl!.NoCache, Is.True, "the plain playlist changes at every part");
        Assert.That(body, Is.EqualTo(
            "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:1\n" +
            "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=6.000,PART-HOLD-BACK=1.500,HOLD-BACK=3.000\n" +
            "#EXT-X-PART-INF:PART-TARGET=0.500\n#EXT-X-MEDIA-SEQUENCE:0\n" +
            "#EXT-X-PROGRAM-DATE-TIME:2026-01-01T12:00:00.000Z\n" +
            "#EXT-X-PART:DURATION=0.500,URI=\"s-0.0.ts\",INDEPENDENT=YES\n" +
            "#EXT-X-PART:DURATION=0.500,URI=\"s-0.1.ts\"\n" +
            "#EXTINF:1.000,\ns-0.ts\n" +
            "#EXT-X-PART:DURATION=0.500,URI=\"s-1.0.ts\",INDEPENDENT=YES\n" +
            "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"s-1.1.ts\"\n"));
    }

    [Test]
    public async Task BlockingReload_FuturePart_AnswersWhenThePartExists()
    {
        var driver = NewStream("ll-block");

        var request = GetAsync("/live/ll-block/stream.m3u8?_HLS_msn=1&_HLS_part=0");
        await Task.Delay(300);
        Assert.That(request.IsCompleted, Is.False, "part 1.0 does not exist yet: the request waits");

        driver.Part();
        var (status, body, response) = await request.WaitAsync(TimeSpan.FromSeconds(2));
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(body, Does.Contain("URI=\"s-1.0.ts\""));
        Assert.That(response.Headers.CacheControl!.Public && response.Headers.CacheControl.MaxAge == TimeSpan.FromSeconds(1), Is.True,
            "a blocking request is a unique URL a shared cache may keep briefly: " + response.Headers.CacheControl);
    }

    [Test]
    public async Task BlockedAnswers_MeasuredFromTheListingOfWhatTheyWaitedFor_AnswersThatDidNotWaitAreNot()
    {
        var driver = NewStream("ll-metrics");
        List<(string Name, double Seconds, string Tag)> Blocked() => [.. _recorder.Snapshot().Where(v => v.Name == "hls.blocked_answer_seconds")];
        var before = Blocked().Count;

        var (immediate, _, _) = await GetAsync("/live/ll-metrics/stream.m3u8?_HLS_msn=0&_HLS_part=1").WaitAsync(TimeSpan.FromSeconds(2));
        Assert.That(immediate, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(Blocked(), Has.Count.EqualTo(before), "part 0.1 existed: the answer did not wait");

        var playlist = GetAsync("/live/ll-metrics/stream.m3u8?_HLS_msn=1&_HLS_part=0");
        await Task.Delay(300);
        var sincePart = System.Diagnostics.Stopwatch.StartNew();
        driver.Part();
        Assert.That((await playlist.WaitAsync(TimeSpan.FromSeconds(2))).Status, Is.EqualTo(HttpStatusCode.OK));
        var partToAnswer = sincePart.Elapsed.TotalSeconds;

        var hinted = _client.GetByteArrayAsync("/live/ll-metrics/s-1.1.ts");
        await Task.Delay(300);
        driver.Part();
        await hinted.WaitAsync(TimeSpan.FromSeconds(2));

        var recorded = Blocked().Skip(before).ToList();
        Assert.That(recorded.Select(v => v.Tag), Is.EqualTo(new[] { "kind=playlist", "kind=part" }));
        // The request waited >= 300 ms before the part came; a figure taken from the request would exceed the
        // time from the part's listing to the answer, which bounds the right figure from above.
        Assert.That(recorded[0].Seconds, Is.GreaterThanOrEqualTo(0).And.LessThanOrEqualTo(partToAnswer),
            "measured from the part's listing, not from the request");
    }

    [Test]
    public async Task BlockingReload_PartPastTheEndOfASegment_MeansPartZeroOfTheNext()
    {
        var driver = NewStream("ll-past-end");

        var request = GetAsync("/live/ll-past-end/stream.m3u8?_HLS_msn=0&_HLS_part=2"); // segment 0 has parts 0 and 1
        await Task.Delay(300);
        Assert.That(request.IsCompleted, Is.False);

        driver.Part();
        var (status, body, _) = await request.WaitAsync(TimeSpan.FromSeconds(2));
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(body, Does.Contain("URI=\"s-1.0.ts\""));
    }

    [Test]
    public async Task BlockingReload_SegmentOnly_AnswersWhenTheSegmentIsComplete()
    {
        var driver = NewStream("ll-segment");
        driver.Part();

        var request = GetAsync("/live/ll-segment/stream.m3u8?_HLS_msn=1");
        await Task.Delay(300);
        Assert.That(request.IsCompleted, Is.False, "segment 1 has a part, but is not complete");

        driver.Part();
        driver.CloseSegment();
        var (status, body, _) = await request.WaitAsync(TimeSpan.FromSeconds(2));
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(body, Does.Contain("\ns-1.ts\n"));
    }

    [TestCase("_HLS_part=1", TestName = "BlockingReload_PartWithoutMsn_400")]
    [TestCase("_HLS_msn=3", TestName = "BlockingReload_MsnBeyondTheNextTwoSegments_400")]
    [TestCase("_HLS_msn=-1", TestName = "BlockingReload_NegativeMsn_400")]
    [TestCase("_HLS_msn=1&_HLS_part=x", TestName = "BlockingReload_PartNotANumber_400")]
    public async Task BlockingReload_InvalidDirectives_400(string query)
    {
        NewStream("ll-400-" + query.GetHashCode(StringComparison.Ordinal));
        var id = "ll-400-" + query.GetHashCode(StringComparison.Ordinal);

        var (status, _, _) = await GetAsync($"/live/{id}/stream.m3u8?{query}").WaitAsync(TimeSpan.FromSeconds(2));

        Assert.That(status, Is.EqualTo(HttpStatusCode.BadRequest));
    }

    [Test]
    public async Task BlockingReload_NothingComesForThreeTargetDurations_503()
    {
        NewStream("ll-503");
        var started = System.Diagnostics.Stopwatch.StartNew();

        var (status, _, _) = await GetAsync("/live/ll-503/stream.m3u8?_HLS_msn=2").WaitAsync(TimeSpan.FromSeconds(10));

        Assert.That(status, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(started.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(2.9)), "blocked for 3 target durations (1 s each) first");
    }

    [Test]
    public async Task BlockingReload_AfterEndList_AnswersAtOnce()
    {
        var driver = NewStream("ll-ended");
        var request = GetAsync("/live/ll-ended/stream.m3u8?_HLS_msn=2&_HLS_part=1");
        await Task.Delay(200);

        driver.Stream.MarkEnded();
        var (status, body, _) = await request.WaitAsync(TimeSpan.FromSeconds(2));
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(body, Does.EndWith("#EXT-X-ENDLIST\n").And.Not.Contain("PRELOAD-HINT"));

        var (again, _, _) = await GetAsync("/live/ll-ended/stream.m3u8?_HLS_msn=2").WaitAsync(TimeSpan.FromSeconds(2));
        Assert.That(again, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task PreloadHintedPart_BlocksUntilItExists_ThenServesItsBytes()
    {
        var driver = NewStream("ll-hint");

        var request = _client.GetByteArrayAsync("/live/ll-hint/s-1.0.ts");
        await Task.Delay(300);
        Assert.That(request.IsCompleted, Is.False, "the hinted part is being made");

        var bytes = driver.Part(fill: 0x11);
        Assert.That(await request.WaitAsync(TimeSpan.FromSeconds(2)), Is.EqualTo(bytes));

        using var old = await _client.GetAsync("/live/ll-hint/s-0.1.ts");
        Assert.That(old.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(old.Headers.CacheControl!.ToString(), Does.Contain("immutable"));
        using var far = await _client.GetAsync("/live/ll-hint/s-5.0.ts").WaitAsync(TimeSpan.FromSeconds(2));
        Assert.That(far.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "only the next parts block; others are 404 at once");
    }

    [Test]
    public async Task DeltaUpdate_SkipsTheSegmentsBeforeTheSkipBoundary()
    {
        var driver = NewStream("ll-skip");
        for (var i = 0; i < 8; i++)
        {
            driver.Part();
            driver.Part();
            driver.CloseSegment(); // 9 segments of 1 s in all
        }

        var (status, body, _) = await GetAsync("/live/ll-skip/stream.m3u8?_HLS_skip=YES");

        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(body, Does.Contain("#EXT-X-SKIP:SKIPPED-SEGMENTS=3\n"), "9 s listed, 6 s (CAN-SKIP-UNTIL) kept");
        Assert.That(body, Does.Not.Contain("\ns-2.ts\n").And.Contain("\ns-3.ts\n"));
        var (_, full, _) = await GetAsync("/live/ll-skip/stream.m3u8");
        Assert.That(full, Does.Not.Contain("EXT-X-SKIP").And.Contain("\ns-0.ts\n"));
    }

    [Test]
    public async Task TwoContainers_EachPlaylistReportsTheOthersLastPart_WithTheTokenCarried()
    {
        var ts = new HlsStream("ll-report", LowLatencyOptions(), sessionId: "s");
        var fmp4 = new HlsStream("ll-report", LowLatencyOptions(), sessionId: "s", container: HlsContainer.Fmp4);
        ts.LinkRendition(fmp4);
        _store.Add(ts);
        _store.Add(fmp4);
        var (a, b) = (new Driver(ts), new Driver(fmp4));
        foreach (var driver in new[] { a, b })
        {
            driver.Part();
            driver.Part();
            driver.CloseSegment();
        }

        a.Part(); // TS: 1.0 ; fMP4 is still at 0.1, then catches up
        var (_, tsBehind, _) = await GetAsync("/live/ll-report/stream.m3u8");
        Assert.That(tsBehind, Does.EndWith(
            "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"s-1.1.ts\"\n#EXT-X-RENDITION-REPORT:URI=\"stream.m3u8?container=fmp4\",LAST-MSN=0,LAST-PART=1\n"));

        b.Part();
        var (_, tsPlaylist, _) = await GetAsync("/live/ll-report/stream.m3u8");
        Assert.That(tsPlaylist, Does.EndWith("#EXT-X-RENDITION-REPORT:URI=\"stream.m3u8?container=fmp4\",LAST-MSN=1,LAST-PART=0\n"),
            "the TS playlist is re-rendered when the fMP4 rendition gains a part");

        _authorizer.Decision = new PlaybackAuthorization(true, SegmentQuery: "token=t1");
        var (_, fmp4Playlist, _) = await GetAsync("/live/ll-report/stream.m3u8?container=fmp4&token=t1");
        Assert.That(fmp4Playlist, Does.EndWith(
            "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"s-1.1.m4s?token=t1\"\n" +
            "#EXT-X-RENDITION-REPORT:URI=\"stream.m3u8?container=ts&token=t1\",LAST-MSN=1,LAST-PART=0\n"));

        ts.MarkEnded();
        _authorizer.Decision = PlaybackAuthorization.Allow; // the cached playlist, no per-request rendering
        var (_, afterEnd, _) = await GetAsync("/live/ll-report/stream.m3u8?container=fmp4");
        Assert.That(afterEnd, Does.Not.Contain("RENDITION-REPORT"), "an ended rendition is not reported");
        Assert.Throws<ArgumentException>(() => ts.LinkRendition(new HlsStream("other", LowLatencyOptions(), container: HlsContainer.Fmp4)));
    }

    [Test]
    public async Task SignedLivestream_EverythingIsPrivate()
    {
        NewStream("ll-private");
        _authorizer.Decision = PlaybackAuthorization.AllowPrivate;

        var (_, _, playlist) = await GetAsync("/live/ll-private/stream.m3u8");
        var (_, _, blocking) = await GetAsync("/live/ll-private/stream.m3u8?_HLS_msn=0");
        using var part = await _client.GetAsync("/live/ll-private/s-0.0.ts");
        using var segment = await _client.GetAsync("/live/ll-private/s-0.ts");

        Assert.That(new[] { playlist, blocking, part, segment }.Select(r => r.Headers.CacheControl!.Private), Is.All.True);
    }
}
