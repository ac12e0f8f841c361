using MediaServer.Tests.Infrastructure;

namespace MediaServer.Tests.EndToEnd;

/// <summary>Every options type is bound once and validated at start: a bad value stops the real server with the key named.</summary>
[Parallelizable(ParallelScope.All)]
public class ConfigurationTests
{
    [TestCase("--MediaServer:Rtmp:HandshakeTimeout=00:00:00", "MediaServer:Rtmp:HandshakeTimeout")]
    [TestCase("--MediaServer:Rtmp:MaxIncomingMessageSize=0", "MediaServer:Rtmp:MaxIncomingMessageSize")]
    [TestCase("--MediaServer:Streams:ReconnectWindow=-00:00:01", "MediaServer:Streams:ReconnectWindow")]
    [TestCase("--MediaServer:Hls:SegmentDuration=00:10:00", "SegmentDuration")]
    public void InvalidValue_ServerDoesNotStart_AndSaysWhichKey(string argument, string key)
    {
        var exception = Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var server = await ServerProcess.StartAsync([argument]);
        });

        Assert.That(exception!.Message, Does.Contain("exited with").And.Contain(key));
    }

    [Test]
    public async Task TimeSpanValues_AreBound_HandshakeTimeoutApplies()
    {
        await using var server = await ServerProcess.StartAsync(["--MediaServer:Rtmp:HandshakeTimeout=00:00:01"]);
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(System.Net.IPAddress.Loopback, server.RtmpPort);
        var stream = client.GetStream();
        await stream.WriteAsync(new byte[] { 3 }); // C0 only: the handshake never completes

        var buffer = new byte[4096];
        var started = System.Diagnostics.Stopwatch.StartNew();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(8));
        while (await stream.ReadAsync(buffer, timeout.Token) > 0)
        {
        }

        Assert.That(started.Elapsed, Is.LessThan(TimeSpan.FromSeconds(6)), "closed by the 1 s handshake timeout, not the 10 s default");
    }
}
