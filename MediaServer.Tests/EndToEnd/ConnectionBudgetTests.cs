using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using MediaServer.Rtmp;
using MediaServer.Rtmp.Client;
using MediaServer.Tests.Infrastructure;

namespace MediaServer.Tests.EndToEnd;

/// <summary>
/// Hostile RTMP and HLS clients against the real server: a chunk-stream amplification flood costs little memory while
/// a real stream goes on, connections and players are capped per address, and readers that stop reading (an RTMP
/// player, an HLS segment download) are disconnected.
/// </summary>
[TestFixture]
[NonParallelizable]
public class ConnectionBudgetTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Test]
    public async Task ChunkStreamFloodFrom100Connections_RaisesMemoryByLessThan32MB_WhileFfmpegKeepsProducingSegments()
    {
        // Room for the 100 attackers and ffmpeg on one address.
        await using var server = await ServerProcess.StartAsync(["--MediaServer:Rtmp:MaxConnectionsPerAddress=1000"]);
        using var publisher = Ffmpeg.StartPublishing(server.RtmpUrl("live", "steady"), seconds: 120, out var errors);
        try
        {
            await WaitForSegmentsAsync(server, "steady", 2);
            var before = ResidentBytes(server.Process);
            var segmentsBefore = await CountSegmentsAsync(server, "steady");

            // Phase 1, the attack as reported: chunk size 1, then a thousand chunk streams of one byte each, each
            // declaring a 16 MiB message, before connect. Phase 2, within the pre-publish budget: a few chunk streams
            // filled close to the byte budget, held open.
            var flood = new List<byte>(SetChunkSize(1));
            for (var csid = 400; csid < 1400; csid++)
            {
                flood.AddRange(ThreeByteBasicHeader(0, csid));
                flood.AddRange(Fmt0Header(0xFFFFFF, 9));
                flood.Add(0x55);
            }

            var clients = new List<TcpClient>();
            try
            {
                var floods = Enumerable.Range(0, 100).Select(async _ =>
                {
                    using var client = await HandshakenClientAsync(server.RtmpPort);
                    await WriteQuietlyAsync(client, [.. flood]);
                    await ReadsToEndAsync(client.GetStream(), TimeSpan.FromSeconds(20));
                });
                await Task.WhenAll(floods);

                var held = new byte[7 * (12 + 9000)];
                for (var i = 0; i < 7; i++)
                {
                    // 7 chunk streams, one 9000-byte chunk each of a 16 MiB message (chunk size 9000 first).
                    var offset = i * (12 + 9000);
                    held[offset] = (byte)(4 + i);
                    Fmt0Header(0xFFFFFF, 9).CopyTo(held, offset + 1);
                }

                for (var i = 0; i < 100; i++)
                {
                    var client = await HandshakenClientAsync(server.RtmpPort);
                    clients.Add(client);
                    await client.GetStream().WriteAsync((byte[])[.. SetChunkSize(9000), .. held]);
                }

                await Task.Delay(2000); // let the server take it all in
                var after = ResidentBytes(server.Process);
                TestContext.Out.WriteLine($"RSS before {before / 1048576.0:0.0} MiB, after {after / 1048576.0:0.0} MiB");
                Assert.That(after - before, Is.LessThan(32L * 1024 * 1024), $"RSS grew from {before} to {after}");
            }
            finally
            {
                foreach (var client in clients)
                {
                    client.Dispose();
                }
            }

            await WaitForSegmentsAsync(server, "steady", segmentsBefore + 2);
            Assert.That(publisher.HasExited, Is.False, errors.ToString());
            Assert.That(server.Log, Does.Contain("TooManyChunkStreams"));
        }
        finally
        {
            ProcessRunner.KillQuietly(publisher);
        }
    }

    [Test]
    public async Task ConnectionsPerAddress_OverTheLimit_ClosedAtAccept_OneLogLine_SlotFreedOnClose()
    {
        await using var server = await ServerProcess.StartAsync(["--MediaServer:Rtmp:MaxConnectionsPerAddress=5"]);
        var clients = new List<TcpClient>();
        try
        {
            for (var i = 0; i < 5; i++)
            {
                clients.Add(await HandshakenClientAsync(server.RtmpPort));
            }

            for (var i = 0; i < 3; i++)
            {
                var (read, closed) = await TryHandshakeAsync(server.RtmpPort);
                Assert.That(closed, Is.True, "the sixth connection was closed");
                Assert.That(read, Is.Zero, "and got no handshake");
            }

            Assert.That(Regex.Count(server.Log, "connection refused: MediaServer:Rtmp:MaxConnectionsPerAddress"), Is.EqualTo(1), "one log line for the burst:\n" + server.Log);

            clients[0].Dispose();
            clients.RemoveAt(0);
            var stopwatch = Stopwatch.StartNew();
            TcpClient? again = null;
            while (again is null && stopwatch.Elapsed < Wait)
            {
                try
                {
                    again = await HandshakenClientAsync(server.RtmpPort);
                }
                catch (Exception e) when (e is IOException or SocketException or EndOfStreamException)
                {
                    await Task.Delay(200); // the server has not seen the close yet
                }
            }

            Assert.That(again, Is.Not.Null, "a freed slot is usable again");
            clients.Add(again!);
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }

    [Test]
    public async Task RtmpPlayerThatStopsReading_DisconnectedAfterItsWriteTimeout_PlayersCappedPerAddress()
    {
        await using var server = await ServerProcess.StartAsync(["--MediaServer:Rtmp:PlayerWriteTimeout=00:00:03", "--MediaServer:Rtmp:MaxPlayersPerAddress=2"]);
        using var publisher = Ffmpeg.StartPublishing(server.RtmpUrl("live", "watched"), seconds: 120, out var errors, size: "1280x720");
        try
        {
            await WaitForSegmentsAsync(server, "watched", 1);
            var target = RtmpPublishTarget.Parse($"rtmp://127.0.0.1:{server.RtmpPort}/live", "watched");
            var options = new RtmpClientOptions();
            await using var stuck = await RtmpPlayClient.ConnectAsync(target, options, CancellationToken.None);
            await using var second = await RtmpPlayClient.ConnectAsync(target, options, CancellationToken.None);
            var refused = Assert.ThrowsAsync<RtmpProtocolException>(async () => await RtmpPlayClient.ConnectAsync(target, options, CancellationToken.None));
            Assert.That(refused!.Message, Does.Contain("NetStream.Play.Failed").And.Contain("MaxPlayersPerAddress"));

            // Neither player reads. Their buffers fill, their sends block, and the server drops them.
            Assert.That(await server.WaitForLogAsync("stopped reading for 3 s; disconnecting", Wait), Is.True, server.Log);
            Assert.That(publisher.HasExited, Is.False, errors.ToString());

            // The slot is free again once the server dropped a stuck player.
            var stopwatch = Stopwatch.StartNew();
            RtmpPlayClient? third = null;
            while (third is null && stopwatch.Elapsed < Wait)
            {
                try
                {
                    third = await RtmpPlayClient.ConnectAsync(target, options, CancellationToken.None);
                }
                catch (RtmpProtocolException)
                {
                    await Task.Delay(500);
                }
            }

            Assert.That(third, Is.Not.Null, "a dropped player's slot is freed");
            await third!.DisposeAsync();
        }
        finally
        {
            ProcessRunner.KillQuietly(publisher);
        }
    }

    [Test]
    public async Task HlsReaderThatStopsReadingASegment_IsDisconnected()
    {
        await using var server = await ServerProcess.StartAsync(["--MediaServer:Hls:StalledReaderTimeout=00:00:03", "--MediaServer:Hls:SegmentDuration=00:00:04"]);
        // 16 Mbit/s, 4 s segments: 8 MB, more than the kernel's socket buffers on loopback (tcp_wmem up to 4 MiB) can
        // take, so the server's write of the segment blocks while the reader reads nothing.
        using var publisher = Ffmpeg.StartPublishing(server.RtmpUrl("live", "big"), seconds: 120, out var errors, gop: 120, size: "640x360", constantBitrate: "16M");
        try
        {
            var playlist = await server.WaitForMediaPlaylistAsync("big", static p => Regex.Count(p, "#EXTINF") >= 1, Wait);
            var segment = playlist.Split('\n').First(l => l.Length > 0 && l[0] != '#').Trim();
            var path = new Uri(new Uri(server.MediaPlaylistUrl("big")), segment).PathAndQuery;

            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
            await socket.ConnectAsync(IPAddress.Loopback, server.HttpPort);
            await socket.SendAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));

            // Read nothing: the server's write blocks, and after its timeout it drops the reader (and says so).
            Assert.That(await server.WaitForLogAsync("took nothing for 3 s; disconnecting", Wait), Is.True, server.Log);
            using var stream = new NetworkStream(socket, ownsSocket: false);
            var (read, closed) = await ReadUntilClosedAsync(stream, TimeSpan.FromSeconds(30));
            var length = await SegmentLengthAsync(server, path);
            TestContext.Out.WriteLine($"segment {length} bytes, read {read} bytes before the close");
            Assert.That(closed, Is.True, "the server closed the stuck download");
            Assert.That(read, Is.LessThan(length), "before sending the whole segment");
            Assert.That(publisher.HasExited, Is.False, errors.ToString());
        }
        finally
        {
            ProcessRunner.KillQuietly(publisher);
        }
    }

    private static async Task<long> SegmentLengthAsync(ServerProcess server, string path)
    {
        using var response = await server.Http.GetAsync(new Uri(server.HttpBase, path));
        return (await response.Content.ReadAsByteArrayAsync()).LongLength;
    }

    private static long ResidentBytes(Process process)
    {
        var line = File.ReadAllLines($"/proc/{process.Id}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(Regex.Match(line, @"\d+").Value, CultureInfo.InvariantCulture) * 1024;
    }

    private static byte[] SetChunkSize(int size)
    {
        var payload = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(payload, size);
        return [0x02, .. Fmt0Header(4, 1), .. payload];
    }

    private static byte[] ThreeByteBasicHeader(int fmt, int csid) => [(byte)((fmt << 6) | 1), (byte)(csid - 64), (byte)((csid - 64) >> 8)];

    /// <summary>fmt 0 message header: timestamp (3), length (3), type id (1), stream id (4, little-endian).</summary>
    private static byte[] Fmt0Header(int length, byte type)
    {
        var h = new byte[11];
        h[3] = (byte)(length >> 16);
        h[4] = (byte)(length >> 8);
        h[5] = (byte)length;
        h[6] = type;
        BinaryPrimitives.WriteInt32LittleEndian(h.AsSpan(7), 1);
        return h;
    }

    private static byte[] C0C1()
    {
        var c0c1 = new byte[1 + 1536];
        c0c1[0] = 3;
        Random.Shared.NextBytes(c0c1.AsSpan(9));
        return c0c1;
    }

    private static async Task<TcpClient> HandshakenClientAsync(int port)
    {
        var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port);
            var stream = client.GetStream();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await stream.WriteAsync(C0C1(), timeout.Token);
            var s0s1s2 = new byte[1 + 1536 + 1536];
            await stream.ReadExactlyAsync(s0s1s2, timeout.Token);
            await stream.WriteAsync(s0s1s2.AsMemory(1, 1536), timeout.Token);
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>Connects and sends C0+C1; the bytes read until the server closes (a reset, even during connect, is a close).</summary>
    private static async Task<(long Read, bool Closed)> TryHandshakeAsync(int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port);
            await client.GetStream().WriteAsync(C0C1());
            return await ReadUntilClosedAsync(client.GetStream(), TimeSpan.FromSeconds(20));
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            return (0, true);
        }
    }

    private static async Task WriteQuietlyAsync(TcpClient client, byte[] bytes)
    {
        try
        {
            await client.GetStream().WriteAsync(bytes);
        }
        catch (IOException)
        {
            // Closed by the server part way: what the test wants.
        }
    }

    private static async Task<bool> ReadsToEndAsync(NetworkStream stream, TimeSpan timeout) => (await ReadUntilClosedAsync(stream, timeout)).Closed;

    private static async Task<(long Read, bool Closed)> ReadUntilClosedAsync(NetworkStream stream, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[64 * 1024];
        long total = 0;
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, cts.Token)) > 0)
            {
                total += read;
            }

            return (total, true);
        }
        catch (IOException)
        {
            return (total, true); // reset by the server
        }
        catch (OperationCanceledException)
        {
            return (total, false);
        }
    }

    private static async Task<int> CountSegmentsAsync(ServerProcess server, string stream) => CountSegments(await server.MediaPlaylistAsync(stream));

    /// <summary>Segments the stream has made so far: the media sequence plus the segments in the window.</summary>
    private static int CountSegments(string playlist)
    {
        var sequence = Regex.Match(playlist, @"#EXT-X-MEDIA-SEQUENCE:(\d+)");
        return (sequence.Success ? int.Parse(sequence.Groups[1].Value, CultureInfo.InvariantCulture) : 0) + Regex.Count(playlist, "#EXTINF");
    }

    private static Task WaitForSegmentsAsync(ServerProcess server, string stream, int atLeast) =>
        server.WaitForMediaPlaylistAsync(stream, p => CountSegments(p) >= atLeast, Wait);
}
