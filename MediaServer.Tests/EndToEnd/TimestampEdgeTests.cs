using MediaServer.Tests.Infrastructure;

namespace MediaServer.Tests.EndToEnd;

/// <summary>
/// Timelines at the edges that break streaming servers, pushed by our own RTMP publisher as fast as the real
/// server takes them, with each chunk framing: RTMP timestamps crossing 0xFFFFFF ms (the extended timestamp,
/// "dies after 4 h 40 min"), the 32-bit millisecond wrap (~49.7 days), and the 33-bit 90 kHz wrap of MPEG-TS
/// (~26.5 h). The HLS output must stay continuous: no gap or overlap between segments larger than one frame,
/// audio and video starting together in every segment, and ffmpeg decoding the whole playlist without an error.
/// </summary>
[TestFixture]
[NonParallelizable]
public class TimestampEdgeTests
{
    /// <summary>Where the timelines start: 6 s before the edge, so the edge falls in the middle of a 12 s stream.</summary>
    public enum TimelineEdge
    {
        /// <summary>RTMP's 24-bit timestamp field overflows into the extended timestamp at 0xFFFFFF ms.</summary>
        Extended24Bit,

        /// <summary>RTMP's 32-bit millisecond timestamp wraps to 0.</summary>
        Wrap32Bit,

        /// <summary>MPEG-TS's 33-bit 90 kHz clock wraps (2^33 / 90 ms = 95,443,717.7 ms).</summary>
        Wrap33Bit90kHz,
    }

    private const int LeadInMs = 6000;
    private const int Loops = 6; // 6 × 2 s: ~880 frames, below the hub's 1024-frame subscriber queue, so none is dropped.

    private ServerProcess _server = null!;
    private List<FlvClipTag> _clip = null!;
    private int _periodMs;

    [OneTimeSetUp]
    public async Task StartServer()
    {
        _clip = FlvClip.Load(TestMedia.H264AacFlv);
        _periodMs = FlvClip.PeriodMs(_clip);
        _server = await ServerProcess.StartAsync(["--MediaServer:Hls:PlaylistLength=30"]);
    }

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    private static long StartOf(TimelineEdge edge) => edge switch
    {
        TimelineEdge.Extended24Bit => 0xFFFFFFL - LeadInMs,
        TimelineEdge.Wrap32Bit => (1L << 32) - LeadInMs,
        _ => 95_443_717L - LeadInMs,
    };

    [Test]
    public async Task Publish_TimelineCrossingAnEdge_HlsStaysContinuousAndDecodes(
        [Values] TimelineEdge edge,
        [Values] ChunkFraming framing)
    {
        var key = $"edge-{edge}-{framing}".ToLowerInvariant();
        await PublishAndCheckAsync(key, framing, FlvClip.Loop(_clip, Loops, StartOf(edge), _periodMs));
    }

    [Test]
    public async Task Publish_AudioSent300MsAheadOfVideo_AcrossThe32BitWrap_HlsStaysContinuousAndDecodes(
        [Values(ChunkFraming.Fmt0WithContinuations, ChunkFraming.FreshHeadersUnsplit)] ChunkFraming framing)
    {
        var key = $"audio-ahead-{framing}".ToLowerInvariant();
        await PublishAndCheckAsync(key, framing, FlvClip.Loop(_clip, Loops, StartOf(TimelineEdge.Wrap32Bit), _periodMs, audioSentEarlyMs: 300));
    }

    [Test]
    public async Task Publish_NegativeCompositionTimes_AcrossThe33BitWrap_HlsStaysContinuousAndDecodes(
        [Values(ChunkFraming.CompressedWithContinuations, ChunkFraming.FreshHeadersUnsplit)] ChunkFraming framing)
    {
        // Decode timestamps 100 ms later, composition times 100 ms lower: with B-frames, most are now negative.
        var tags = FlvClip.Loop(_clip, Loops, StartOf(TimelineEdge.Wrap33Bit90kHz), _periodMs, videoDtsShiftMs: 100);
        Assert.That(tags.Count(t => t.IsAvcFrame && t.CompositionTime < 0), Is.GreaterThan(Loops * 30), "the stream has negative composition times");
        var key = $"negative-cts-{framing}".ToLowerInvariant();
        await PublishAndCheckAsync(key, framing, tags);
    }

    private async Task PublishAndCheckAsync(string key, ChunkFraming framing, List<FlvClipTag> tags)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using (var publisher = await SyntheticRtmpPublisher.StartAsync(_server.RtmpPort, "live", key, framing, cts.Token))
        {
            await publisher.SendAsync(tags, cts.Token);
            await publisher.UnpublishAsync(cts.Token);
        }

        var playlist = await HlsOutput.WaitForPlaylistAsync(_server, key, p => p.EndsWith("#EXT-X-ENDLIST\n", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        var segments = await HlsOutput.FetchSegmentsAsync(_server.Http, _server.MediaPlaylistUrl(key), playlist);
        var media = segments.Sum(s => s.Duration);
        Assert.Multiple(() =>
        {
            Assert.That(segments, Has.Count.GreaterThanOrEqualTo(3), playlist);
            Assert.That(media, Is.EqualTo(Loops * _periodMs / 1000.0).Within(1.0), "all the media sent is in the playlist:\n" + playlist);
            Assert.That(playlist, Does.Not.Contain("#EXT-X-DISCONTINUITY"), "one unbroken timeline");
            Assert.That(HlsOutput.TimelineProblems(segments), Is.Empty, playlist);
        });

        var decode = await Ffmpeg.DecodeAsync(_server.MediaPlaylistUrl(key), TimeSpan.FromSeconds(120));
        Assert.That(decode.ExitCode, Is.Zero, decode.ToString());
        Assert.That(decode.StandardError.Trim(), Is.Empty, "ffmpeg reported errors decoding the playlist:\n" + decode.StandardError);
    }
}
