using MediaServer.Core.Diagnostics;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using MediaServer.Core.Flv;
using MediaServer.Tests.Infrastructure;

namespace MediaServer.Tests.EndToEnd;

/// <summary>
/// The diagnostics a user can act on, through the real server: a keyframe interval longer than the segment
/// duration, timestamps that jump, a codec HLS cannot carry. Each shows in GET /v1/livestreams/{id} while the
/// stream is live and is logged once, however often it happens.
/// </summary>
[TestFixture]
[NonParallelizable]
public class DiagnosticsTests
{
    [Test]
    public async Task LongGopJumpsAndAnUnplayableCodec_EachInTheStatus_AndLoggedOnce()
    {
        var data = Path.Combine(Path.GetTempPath(), "mediaserver-tests", "diagnostics-e2e-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (apiKey, _) = await ServerCli.CreateApiKeyAsync(data);
            var token = await ServerCli.TokenAsync(data, apiKey);
            await using var server = await ServerProcess.StartAsync(dataDirectory: data);
            using var create = new HttpRequestMessage(HttpMethod.Post, new Uri(server.HttpBase, "v1/livestreams"));
            create.Headers.TryAddWithoutValidation("Authorization", token);
            create.Content = JsonContent.Create(new { name = "diagnostics", record = false });
            using var created = await server.Http.SendAsync(create);
            Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.OK), await created.Content.ReadAsStringAsync());
            var livestream = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.Clone();
            var id = livestream.GetProperty("id").GetString()!;
            var streamKey = livestream.GetProperty("streamKey").GetString()!;

            var clip = FlvClip.Load(TestMedia.H264AacFlv); // 1 s GOPs
            var period = FlvClip.PeriodMs(clip);
            var longGop = FlvClip.Load(TestMedia.GetFlv(
                "h264-aac-gop3s",
                "-f lavfi -i testsrc=size=320x240:rate=30:duration=6 -f lavfi -i sine=frequency=440:sample_rate=44100:duration=6 "
                + "-c:v libx264 -profile:v high -preset veryfast -pix_fmt yuv420p -bf 2 -g 90 -keyint_min 90 -sc_threshold 0 "
                + "-c:a aac -b:a 64k -shortest"));

            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            await using var publisher = await SyntheticRtmpPublisher.StartAsync(server.RtmpPort, "live", streamKey, ChunkFraming.CompressedWithContinuations, cts.Token);

            // 1. 4 s of 1 s GOPs fix the target duration at 2 s; then 3 s GOPs make 3 s segments.
            long at = 0;
            await publisher.SendAsync(FlvClip.Loop(clip, 2, at, period), cts.Token);
            at += 2L * period;
            var longPeriod = FlvClip.PeriodMs(longGop);
            await publisher.SendAsync(FlvClip.Loop(longGop, 1, at, longPeriod), cts.Token);
            at += longPeriod;
            await publisher.SendAsync(FlvClip.Loop(clip, 1, at, period), cts.Token);
            at += period;
            var status = await WaitForDiagnosticAsync(server, token, id, DiagnosticKeys.HlsKeyframeInterval, _ => true);

            // 2. Jumps: 60 s forwards, then 30 s backwards.
            at += 60_000;
            await publisher.SendAsync(FlvClip.Loop(clip, 1, at, period), cts.Token);
            at -= 30_000;
            await publisher.SendAsync(FlvClip.Loop(clip, 1, at, period), cts.Token);
            at += period;
            status = await WaitForDiagnosticAsync(server, token, id, DiagnosticKeys.HlsTimestampJumps, m => m.Contains("2 time(s) (1 backwards, 1 forwards", StringComparison.Ordinal));

            // 3. Opus audio (Enhanced RTMP: SoundFormat 9, CodedFrames, FourCC "Opus"): not carried in MPEG-TS HLS.
            byte[] opus = [0x91, (byte)'O', (byte)'p', (byte)'u', (byte)'s', 0xFC, 0xFF, 0xFE];
            await publisher.SendAsync([new FlvClipTag(FlvTagType.Audio, at, opus), new FlvClipTag(FlvTagType.Audio, at + 20, opus)], cts.Token);
            await publisher.SendAsync(FlvClip.Loop(clip, 1, at + 40, period), cts.Token);
            status = await WaitForDiagnosticAsync(server, token, id, DiagnosticKeys.HlsUnsupportedAudioCodec, m => m.Contains("Opus", StringComparison.Ordinal));

            await publisher.UnpublishAsync(cts.Token);
            await publisher.CloseAsync();
            Assert.That(await server.WaitForLogAsync($"Stream {livestream.GetProperty("playbackId").GetString()} ended", TimeSpan.FromSeconds(20)), Is.True, server.Log);

            var log = server.Log;
            Assert.Multiple(() =>
            {
                Assert.That(status.GetProperty("diagnostics").EnumerateObject().Select(p => p.Name), Is.SupersetOf(new[] { DiagnosticKeys.HlsKeyframeInterval, DiagnosticKeys.HlsTimestampJumps, DiagnosticKeys.HlsUnsupportedAudioCodec }), status.ToString());
                Assert.That(Regex.Count(log, "longer than the HLS target duration"), Is.EqualTo(1), log);
                Assert.That(Regex.Count(log, "timestamps jumped"), Is.EqualTo(1), log);
                Assert.That(Regex.Count(log, "cannot carry the audio codec"), Is.EqualTo(1), log);
            });
        }
        finally
        {
            try
            {
                Directory.Delete(data, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>Polls GET /v1/livestreams/{id} until diagnostics[key] satisfies the condition; returns the livestream.</summary>
    private static async Task<JsonElement> WaitForDiagnosticAsync(ServerProcess server, string token, string id, string key, Func<string, bool> condition)
    {
        var stopwatch = Stopwatch.StartNew();
        var last = "";
        while (stopwatch.Elapsed < TimeSpan.FromSeconds(30))
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(server.HttpBase, $"v1/livestreams/{id}"));
            request.Headers.TryAddWithoutValidation("Authorization", token);
            using var response = await server.Http.SendAsync(request);
            last = await response.Content.ReadAsStringAsync();
            if (response.IsSuccessStatusCode)
            {
                var body = JsonDocument.Parse(last).RootElement.Clone();
                if (body.TryGetProperty("diagnostics", out var diagnostics) && diagnostics.ValueKind == JsonValueKind.Object &&
                    diagnostics.TryGetProperty(key, out var message) && condition(message.GetString() ?? ""))
                {
                    return body;
                }
            }

            await Task.Delay(200);
        }

        Assert.Fail($"diagnostic '{key}' not in the status; last: {last}\n{server.Log}");
        return default;
    }
}
