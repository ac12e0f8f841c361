using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using MediaServer.Tests.Infrastructure;

namespace MediaServer.Tests.EndToEnd;

/// <summary>
/// Bad input from the network closes only the offending connection, with one clear log line, while a real
/// publisher on another stream carries on untouched.
/// </summary>
[TestFixture]
[NonParallelizable]
public class MalformedInputTests
{
    private ServerProcess _server = null!;
    private Process _publisher = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        _server = await ServerProcess.StartAsync(["--MediaServer:Rtmp:HandshakeTimeout=00:00:02"]);
        _publisher = Ffmpeg.StartPublishing(_server.RtmpUrl("live", "steady"), seconds: 120, out _);
        await WaitForSegmentsAsync(1);
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        ProcessRunner.KillQuietly(_publisher);
        _publisher.Dispose();
        await _server.DisposeAsync();
    }

    private static byte[] Chunk(int fmt, int csid, byte[] header, byte[] payload) => [(byte)((fmt << 6) | csid), .. header, .. payload];

    /// <summary>fmt 0 message header: timestamp (3), length (3), type id (1), stream id (4, little-endian).</summary>
    private static byte[] Fmt0Header(int length, byte type, int streamId = 0)
    {
        var h = new byte[11];
        h[3] = (byte)(length >> 16);
        h[4] = (byte)(length >> 8);
        h[5] = (byte)length;
        h[6] = type;
        BinaryPrimitives.WriteInt32LittleEndian(h.AsSpan(7), streamId);
        return h;
    }

    private static byte[] DeepAmf(int depth)
    {
        // "connect" string, transaction id 1, then an object nested `depth` times.
        var bytes = new List<byte> { 0x02, 0x00, 0x07 };
        bytes.AddRange("connect"u8.ToArray());
        bytes.AddRange([0x00, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0]);
        for (var i = 0; i < depth; i++)
        {
            bytes.AddRange([0x03, 0x00, 0x01, (byte)'a']);
        }

        return [.. bytes];
    }

    public static IEnumerable<TestCaseData> BadSessions()
    {
        yield return new TestCaseData("truncated-handshake", new byte[] { 3, 0, 0, 0 }, false).SetName("TruncatedHandshake_ClosesConnection");
        yield return new TestCaseData("garbage", Enumerable.Range(0, 4000).Select(i => (byte)(i * 7919 % 251)).ToArray(), true).SetName("GarbageAfterHandshake_ClosesConnection");
        // Set Chunk Size (type 1) whose header says 2 bytes: the message must be 4.
        yield return new TestCaseData("lying-length", Chunk(0, 2, Fmt0Header(2, 1), [0, 1]), true).SetName("ControlMessageWithLyingLength_ClosesConnection");
        // AMF0 command whose string claims 500 bytes inside a 10-byte message.
        yield return new TestCaseData("lying-amf", Chunk(0, 3, Fmt0Header(10, 20), [0x02, 0x01, 0xF4, .. "connect"u8.ToArray()]), true).SetName("CommandWithLyingStringLength_ClosesConnection");
        yield return new TestCaseData("absurd-chunk-size", Chunk(0, 2, Fmt0Header(4, 1), [0x80, 0, 0, 0]), true).SetName("AbsurdChunkSize_ClosesConnection");
        yield return new TestCaseData("no-previous-header", Chunk(3, 5, [], new byte[64]), true).SetName("ChunkStreamWithoutPreviousHeader_ClosesConnection");
        var deep = DeepAmf(200);
        yield return new TestCaseData("deep-amf", Chunk(0, 3, Fmt0Header(deep.Length, 20), deep.Take(128).ToArray())
            .Concat(ContinuationChunks(deep.Skip(128).ToArray())).ToArray(), true).SetName("DeeplyNestedAmf_ClosesConnection");
    }

    private static IEnumerable<byte> ContinuationChunks(byte[] rest)
    {
        for (var offset = 0; offset < rest.Length; offset += 128)
        {
            yield return 0xC3; // fmt 3, csid 3
            foreach (var b in rest.Skip(offset).Take(128))
            {
                yield return b;
            }
        }
    }

    [TestCaseSource(nameof(BadSessions))]
    public async Task BadInput_ClosesOnlyThatConnection_LogsOnce(string name, byte[] payload, bool handshakeFirst)
    {
        var segmentsBefore = await CountSegmentsAsync();
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, _server.RtmpPort);
        var localPort = ((IPEndPoint)client.Client.LocalEndPoint!).Port;
        var stream = client.GetStream();
        if (handshakeFirst)
        {
            await HandshakeAsync(stream);
        }

        await stream.WriteAsync(payload);
        await stream.FlushAsync();

        // The server must close the connection (handshake timeout is 2 s for the truncated case).
        Assert.That(await ReadsToEndAsync(stream, TimeSpan.FromSeconds(10)), Is.True, $"{name}: the server kept the connection open");

        var marker = $"127.0.0.1:{localPort}";
        Assert.That(await _server.WaitForLogAsync(marker, TimeSpan.FromSeconds(5)), Is.True, $"{name}: no log line names the connection\n{_server.Log}");
        var lines = _server.Log.Split('\n').Where(l => l.Contains(marker, StringComparison.Ordinal) && Regex.IsMatch(l, @"\b(warn|fail|crit)\b")).ToList();
        Assert.That(lines, Has.Count.EqualTo(1), $"{name}: expected exactly one warning for the connection:\n{string.Join('\n', lines)}");

        Assert.That(_publisher.HasExited, Is.False, "the steady publisher was disturbed");
        await WaitForSegmentsAsync(segmentsBefore + 1);
    }

    private static async Task HandshakeAsync(NetworkStream stream)
    {
        var c0c1 = new byte[1 + 1536];
        c0c1[0] = 3;
        Random.Shared.NextBytes(c0c1.AsSpan(9));
        await stream.WriteAsync(c0c1);
        var s0s1s2 = new byte[1 + 1536 + 1536];
        await stream.ReadExactlyAsync(s0s1s2);
        Assert.That(s0s1s2[0], Is.EqualTo(3));
        await stream.WriteAsync(s0s1s2.AsMemory(1, 1536)); // C2 echoes S1
    }

    private static async Task<bool> ReadsToEndAsync(NetworkStream stream, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[4096];
        try
        {
            while (await stream.ReadAsync(buffer, cts.Token) > 0)
            {
            }

            return true;
        }
        catch (IOException)
        {
            return true; // reset by the server
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task<int> CountSegmentsAsync()
    {
        using var response = await _server.Http.GetAsync(new Uri(_server.MediaPlaylistUrl("steady")));
        if (!response.IsSuccessStatusCode)
        {
            return 0;
        }

        var text = await response.Content.ReadAsStringAsync();
        var sequence = Regex.Match(text, @"#EXT-X-MEDIA-SEQUENCE:(\d+)");
        var listed = Regex.Count(text, "#EXTINF");
        return (sequence.Success ? int.Parse(sequence.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0) + listed;
    }

    private async Task WaitForSegmentsAsync(int atLeast)
    {
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed < TimeSpan.FromSeconds(20))
        {
            if (await CountSegmentsAsync() >= atLeast)
            {
                return;
            }

            await Task.Delay(200);
        }

        Assert.Fail($"the steady stream stopped producing segments (wanted {atLeast})\n{_server.Log}");
    }
}
