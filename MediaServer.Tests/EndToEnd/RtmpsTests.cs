using MediaServer.Tests.Infrastructure;

namespace MediaServer.Tests.EndToEnd;

/// <summary>RTMPS ingest: ffmpeg publishes over TLS to the server's second RTMP listener.</summary>
[TestFixture]
[NonParallelizable]
public class RtmpsTests
{
    [Test]
    public async Task Publish_OverRtmps_ProducesHls()
    {
        var data = Path.Combine(Path.GetTempPath(), "mediaserver-tests", "rtmps-" + Guid.NewGuid().ToString("N"));
        var pfx = TestCertificate.WritePfx(data);
        var rtmpsPort = FreePort.Next();
        await using var server = await ServerProcess.StartAsync(
            [$"--MediaServer:Rtmps:Port={rtmpsPort}", $"--MediaServer:Rtmps:CertificatePath={pfx}"], data);

        var publish = await Ffmpeg.PublishAsync($"rtmps://127.0.0.1:{rtmpsPort}/live/secure", seconds: 5, realtime: false);
        Assert.That(publish.ExitCode, Is.Zero, publish + "\n" + server.Log);

        using var response = await server.Http.GetAsync(new Uri(server.HlsUrl("secure")));
        Assert.That(response.IsSuccessStatusCode, Is.True, server.Log);
        var decode = await Ffmpeg.DecodeAsync(server.HlsUrl("secure"), TimeSpan.FromSeconds(60));
        Assert.That(decode.ExitCode, Is.Zero, decode.ToString());
        Assert.That(decode.StandardError.Trim(), Is.Empty, decode.StandardError);
    }
}
