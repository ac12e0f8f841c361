using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using MediaServer.Core.Flv;
using MediaServer.Rtmp.Chunking;
using MediaServer.Rtmp.Client;
using MediaServer.Rtmp.Messages;

namespace MediaServer.Tests.Infrastructure;

/// <summary>How <see cref="SyntheticRtmpPublisher"/> frames its messages into chunks.</summary>
public enum ChunkFraming
{
    /// <summary>Chunk size 128 and an absolute fmt 0 header on every message: once timestamps pass 0xFFFFFF, every
    /// message header and every one of its fmt 3 continuation chunks carries the 4-byte extended timestamp.</summary>
    Fmt0WithContinuations,

    /// <summary>Chunk size 128, headers compressed as far as the previous message allows (fmt 1/2 deltas, fmt 3
    /// new messages repeating the delta), large messages split into fmt 3 continuation chunks.</summary>
    CompressedWithContinuations,

    /// <summary>Chunk size 1 MiB, so no message is split, and a fresh fmt 0/1 header (delta, length, type) on
    /// every message.</summary>
    FreshHeadersUnsplit,
}

/// <summary>One FLV tag of a clip: type, timestamp (ms) and body as they go on the wire.</summary>
public sealed record FlvClipTag(FlvTagType Type, long Timestamp, byte[] Body)
{
    /// <summary>AVC or AAC sequence header (decoder configuration).</summary>
    public bool IsSequenceHeader => Body.Length >= 2 && Body[1] == 0 &&
        ((Type == FlvTagType.Video && (Body[0] & 0x0F) == 7) || (Type == FlvTagType.Audio && Body[0] >> 4 == 10));

    /// <summary>An AVC NALU tag (codec 7, packet type 1), which carries a composition time.</summary>
    public bool IsAvcFrame => Type == FlvTagType.Video && Body.Length >= 5 && (Body[0] & 0x0F) == 7 && Body[1] == 1;

    /// <summary>The SI24 composition time of an AVC NALU tag.</summary>
    public int CompositionTime => IsAvcFrame ? (((Body[2] << 16) | (Body[3] << 8) | Body[4]) << 8) >> 8 : 0;

    /// <summary>This tag with its composition time replaced (AVC NALU tags only).</summary>
    public FlvClipTag WithCompositionTime(int cts)
    {
        var body = (byte[])Body.Clone();
        body[2] = (byte)(cts >> 16);
        body[3] = (byte)(cts >> 8);
        body[4] = (byte)cts;
        return this with { Body = body };
    }
}

/// <summary>
/// Real media for the synthetic publisher: the tags of an FLV file (made by ffmpeg in test setup), re-timed onto
/// any timeline.
/// </summary>
public static class FlvClip
{
    /// <summary>The audio and video tags of an FLV file, in file order (script tags are left out).</summary>
    public static List<FlvClipTag> Load(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        if (!FlvFileReader.TryReadHeader(ref reader, out _))
        {
            throw new InvalidDataException($"{path}: not an FLV file");
        }

        var tags = new List<FlvClipTag>();
        while (FlvFileReader.TryReadTag(ref reader, out var tag))
        {
            if (tag.Type is FlvTagType.Audio or FlvTagType.Video)
            {
                tags.Add(new FlvClipTag(tag.Type, tag.Timestamp, tag.Body.ToArray()));
            }
        }

        return tags;
    }

    /// <summary>
    /// The clip played <paramref name="loops"/> times back to back from <paramref name="startMs"/>: the sequence
    /// headers once at the start, then the frames of each loop shifted by <paramref name="periodMs"/>. Frames are
    /// in timestamp order, audio <paramref name="audioSentEarlyMs"/> ahead of the video it plays with (encoders
    /// interleave out of step). <paramref name="videoDtsShiftMs"/> moves video decode timestamps later and
    /// composition times down by as much (same presentation times), making composition times negative.
    /// </summary>
    public static List<FlvClipTag> Loop(IReadOnlyList<FlvClipTag> clip, int loops, long startMs, int periodMs, int audioSentEarlyMs = 0, int videoDtsShiftMs = 0)
    {
        var result = clip.Where(t => t.IsSequenceHeader).Select(t => t with { Timestamp = startMs }).ToList();

        // ffmpeg's AAC starts a little after the video (encoder delay: 44 ms here) and runs past it: move the audio to
        // start with the first video frame and leave out the audio frames that would overlap the next loop, so each
        // loop joins the next with no gap or overlap larger than one frame on either track.
        var firstVideo = clip.Where(t => t.Type == FlvTagType.Video && !t.IsSequenceHeader).Min(t => t.Timestamp);
        var firstAudio = clip.Where(t => t.Type == FlvTagType.Audio && !t.IsSequenceHeader).Select(t => t.Timestamp).DefaultIfEmpty(firstVideo).Min();
        clip = [.. clip.Select(t => t.Type == FlvTagType.Audio && !t.IsSequenceHeader ? t with { Timestamp = t.Timestamp - firstAudio + firstVideo } : t)];
        var audio = clip.Where(t => t.Type == FlvTagType.Audio && !t.IsSequenceHeader).Select(t => t.Timestamp).ToList();
        var audioFrameMs = audio.Count > 1 ? audio.Zip(audio.Skip(1), (a, b) => b - a).Order().ElementAt((audio.Count - 1) / 2) : 0;
        var frames = new List<(long SendKey, int Order, FlvClipTag Tag)>();
        for (var loop = 0; loop < loops; loop++)
        {
            foreach (var tag in clip)
            {
                // ffmpeg ends the file with an AVC end-of-sequence tag: it does not belong in the middle of a stream.
                var endOfSequence = tag.Type == FlvTagType.Video && !tag.IsSequenceHeader && !tag.IsAvcFrame;
                if (tag.IsSequenceHeader || endOfSequence || (tag.Type == FlvTagType.Audio && tag.Timestamp + audioFrameMs > periodMs + 1))
                {
                    continue;
                }

                var timed = tag with { Timestamp = startMs + ((long)loop * periodMs) + tag.Timestamp };
                if (videoDtsShiftMs != 0 && timed.IsAvcFrame)
                {
                    timed = timed.WithCompositionTime(timed.CompositionTime - videoDtsShiftMs) with { Timestamp = timed.Timestamp + videoDtsShiftMs };
                }

                var sendKey = timed.Timestamp - (timed.Type == FlvTagType.Audio ? audioSentEarlyMs : 0);
                frames.Add((sendKey, frames.Count, timed));
            }
        }

        frames.Sort((a, b) => a.SendKey != b.SendKey ? a.SendKey.CompareTo(b.SendKey) : a.Order.CompareTo(b.Order));
        result.AddRange(frames.Select(f => f.Tag));
        return result;
    }

    /// <summary>Length of one loop of a clip: last video frame's timestamp plus one frame (the step before it).</summary>
    public static int PeriodMs(IReadOnlyList<FlvClipTag> clip)
    {
        var video = clip.Where(t => t.IsAvcFrame).Select(t => t.Timestamp).ToList();
        return (int)(video[^1] + (video[^1] - video[^2]));
    }
}

/// <summary>
/// A test publisher that speaks real RTMP to a real server over loopback TCP (handshake, connect, createStream,
/// publish, then FLV tags as audio/video messages as fast as the server takes them), with a choice of
/// <see cref="ChunkFraming"/>. Timestamps go on the wire as their low 32 bits, so a timeline may cross 0xFFFFFF
/// and 2^32.
/// </summary>
internal sealed class SyntheticRtmpPublisher : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly RtmpClientConnection _connection;
    private readonly CancellationTokenSource _drainCts = new();
    private readonly string _key;
    private uint _streamId;
    private Task _drain = Task.CompletedTask;
    private bool _disposed;

    private SyntheticRtmpPublisher(Socket socket, RtmpClientConnection connection, string key)
    {
        _socket = socket;
        _connection = connection;
        _key = key;
    }

    /// <summary>Messages written so far.</summary>
    public long MessagesSent { get; private set; }

    /// <summary>Connects, publishes <paramref name="key"/> under <paramref name="app"/> and applies the framing.</summary>
    public static async Task<SyntheticRtmpPublisher> StartAsync(int port, string app, string key, ChunkFraming framing, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken);
        var stream = new NetworkStream(socket, ownsSocket: false);
        var connection = new RtmpClientConnection(new StreamPipe(PipeReader.Create(stream), PipeWriter.Create(stream)));
        var publisher = new SyntheticRtmpPublisher(socket, connection, key);
        try
        {
            await connection.HandshakeAsync(cancellationToken);
            await connection.ConnectAsync(app, $"rtmp://127.0.0.1:{port}/{app}", cancellationToken);
            publisher._streamId = await connection.CreateStreamAsync(cancellationToken);
            var status = await connection.PublishAsync(publisher._streamId, key, cancellationToken);
            if (!status.TryGetString("code", out var code) || code != "NetStream.Publish.Start")
            {
                throw new InvalidOperationException("publish refused: " + RtmpClientConnection.DescribeStatus(status));
            }

            if (framing == ChunkFraming.FreshHeadersUnsplit)
            {
                await connection.SetChunkSizeAsync(1 << 20, cancellationToken);
            }

            connection.Output.MaxMessageHeaderFormat = framing switch
            {
                ChunkFraming.Fmt0WithContinuations => 0,
                ChunkFraming.FreshHeadersUnsplit => 1,
                _ => 3,
            };

            // Keep reading what the server sends (acknowledgements, pings) so it never waits on us.
            publisher._drain = Task.Run(() => publisher.DrainAsync(publisher._drainCts.Token), CancellationToken.None);
            return publisher;
        }
        catch
        {
            await publisher.DisposeAsync();
            throw;
        }
    }

    /// <summary>Writes the tags as audio/video messages, each as soon as the connection takes it.</summary>
    public async Task SendAsync(IEnumerable<FlvClipTag> tags, CancellationToken cancellationToken)
    {
        foreach (var tag in tags)
        {
            var type = tag.Type == FlvTagType.Audio ? RtmpMessageType.Audio : RtmpMessageType.Video;
            await _connection.WriteMessageAsync(type, unchecked((uint)tag.Timestamp), _streamId, tag.Body, cancellationToken);
            MessagesSent++;
        }
    }

    /// <summary>The encoder's teardown: FCUnpublish and deleteStream (the answers are not waited for).</summary>
    public async Task UnpublishAsync(CancellationToken cancellationToken)
    {
        await _connection.SendCommandAsync(0, "FCUnpublish", _connection.NextTransactionId(), null, [_key], cancellationToken);
        await _connection.SendCommandAsync(0, "deleteStream", _connection.NextTransactionId(), null, [(double)_streamId], cancellationToken);
    }

    /// <summary>
    /// Writes the tags, then FCUnpublish and deleteStream, as ONE write on the socket, and closes the sending side
    /// right after it: the server receives a large burst of media, the teardown and the FIN together, as from an
    /// encoder stopping while the network is behind. Every message goes with a self-contained fmt 0 header, so
    /// this must be the last thing sent on the connection.
    /// </summary>
    public async Task SendUnpublishAndCloseInOneWriteAsync(IEnumerable<FlvClipTag> tags, CancellationToken cancellationToken)
    {
        var bytes = new ArrayBufferWriter<byte>();
        var chunks = new ChunkStreamWriter { ChunkSize = _connection.ChunkSize, MaxMessageHeaderFormat = 0 };
        foreach (var tag in tags)
        {
            var (type, chunkStream) = tag.Type == FlvTagType.Audio
                ? (RtmpMessageType.Audio, RtmpClientConnection.AudioChunkStream)
                : (RtmpMessageType.Video, RtmpClientConnection.VideoChunkStream);
            chunks.Write(bytes, chunkStream, type, unchecked((uint)tag.Timestamp), _streamId, tag.Body);
            MessagesSent++;
        }

        chunks.Write(bytes, 3, RtmpMessageType.CommandAmf0, 0, 0, RtmpCommand.Encode("FCUnpublish", _connection.NextTransactionId(), null, _key));
        chunks.Write(bytes, 3, RtmpMessageType.CommandAmf0, 0, 0, RtmpCommand.Encode("deleteStream", _connection.NextTransactionId(), null, (double)_streamId));
        await _connection.WriteRawAsync(bytes.WrittenMemory, cancellationToken);
        await CloseAsync();
    }

    /// <summary>
    /// Closes the connection at once: FIN right after everything written so far (shutdown of the sending side),
    /// then waits (at most 10 s) for the server to close its side before releasing the socket.
    /// </summary>
    public async Task CloseAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
        }

        try
        {
            await _drain.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException or MediaServer.Rtmp.RtmpProtocolException)
        {
        }

        await _drainCts.CancelAsync();
        try
        {
            await _drain;
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException or MediaServer.Rtmp.RtmpProtocolException)
        {
        }

        try
        {
            await _connection.DisposeAsync();
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or SocketException or InvalidOperationException)
        {
        }

        _socket.Dispose();
        _drainCts.Dispose();
    }

    public async ValueTask DisposeAsync() => await CloseAsync();

    private async Task DrainAsync(CancellationToken cancellationToken)
    {
        while (await _connection.ReadMessageAsync(cancellationToken) is { } message)
        {
            message.Payload.Release();
        }
    }

    private sealed record StreamPipe(PipeReader Input, PipeWriter Output) : IDuplexPipe;
}
