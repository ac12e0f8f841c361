using MediaServer.Tests.Infrastructure;

namespace MediaServer.Tests.EndToEnd;

/// <summary>
/// A clean unpublish ends the stream at once, even when the encoder closes its socket right after the
/// FCUnpublish/deleteStream and the server still has media of the same connection to work through.
/// </summary>
[TestFixture]
[NonParallelizable]
public class UnpublishTests
{
    [Test]
    public async Task UnpublishThenCloseAtOnce_BehindABurstOfMedia_EndsTheStreamWithoutAReconnectWindow()
    {
        // A long reconnect window: if the close were taken for a lost connection, the stream would not end in time.
        await using var server = await ServerProcess.StartAsync(["--MediaServer:Streams:ReconnectWindow=00:10:00"]);
        var clip = FlvClip.Load(TestMedia.H264AacFlv);
        var tags = FlvClip.Loop(clip, loops: 4, startMs: 0, FlvClip.PeriodMs(clip));
        var split = tags.Count / 4;

        // Several rounds: whether the server has read the burst when the FIN arrives is a race the fix must win every time.
        for (var round = 0; round < 10; round++)
        {
            var key = $"unpublish-{round}";
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await using (var publisher = await SyntheticRtmpPublisher.StartAsync(server.RtmpPort, "live", key, ChunkFraming.Fmt0WithContinuations, cts.Token))
            {
                await publisher.SendAsync(tags.Take(split), cts.Token);
                await publisher.SendUnpublishAndCloseInOneWriteAsync(tags.Skip(split), cts.Token);
            }

            Assert.That(await server.WaitForLogAsync($"Stream {key} ended", TimeSpan.FromSeconds(20)), Is.True, $"round {round}: the stream did not end:\n{server.Log}");
            Assert.That(server.Log, Does.Not.Contain($"Stream {key}: publisher lost"), $"round {round}: a clean unpublish opened the reconnect window");
            var playlist = await HlsOutput.WaitForPlaylistAsync(server, key, p => p.Contains("#EXT-X-ENDLIST", StringComparison.Ordinal), TimeSpan.FromSeconds(20));
            Assert.That(playlist, Does.EndWith("#EXT-X-ENDLIST\n"));
        }
    }
}
