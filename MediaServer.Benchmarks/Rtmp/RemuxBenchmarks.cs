using System.Buffers;
using BenchmarkDotNet.Attributes;
using MediaServer.Benchmarks.Infrastructure;
using MediaServer.Benchmarks.Inputs;
using MediaServer.Core.Flv;
using MediaServer.Core.Media;
using MediaServer.Rtmp.Chunking;
using MediaServer.Rtmp.Messages;

namespace MediaServer.Benchmarks.Rtmp;

/// <summary>
/// Ingest to TS in memory, the key number: RTMP chunks in, MPEG-TS segments out. Chunk bytes →
/// <see cref="ChunkStreamReader"/> → <see cref="FlvDemuxer"/> (timestamps extended as the session does) →
/// <see cref="MediaServer.Core.Mpegts.TsMuxer"/> segmented at keyframes into a reused pooled buffer. The
/// publish preamble (Set Chunk Size, metadata, sequence headers) is fed once in setup; each operation is the
/// 10 s of steady-state media. No sockets, no fan-out (<c>LiveStream</c>/subscriber queues are not included).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(MediaBenchmarkConfig))]
[MediaThroughput(MediaInput.MediaTags)]
public class RemuxBenchmarks
{
    private readonly PipeFeeder _pipe = new();
    private ChunkStreamReader _reader = null!;
    private SegmentingTsWriter _writer = null!;
    private RtmpMediaTimeline _timeline;
    private byte[] _media = [];

    [Params(128, 4096)]
    public int ChunkSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var parts = BenchmarkMedia.Shared.ToChunkStream(ChunkSize);
        _reader = new ChunkStreamReader();
        _writer = new SegmentingTsWriter();
        Process(new ReadOnlySequence<byte>(parts.Preamble));
        _media = parts.Media;
        if (_reader.ChunkSize != ChunkSize)
        {
            throw new InvalidOperationException("The preamble did not set the chunk size.");
        }

        var single = ChunksToTs();
        var piped = ChunksToTsThroughPipe();
        if (single <= 0 || single % 188 != 0 || single != piped || _writer.Muxer.RejectedFrames != 0)
        {
            throw new InvalidOperationException($"Remux check failed: {single} vs {piped} TS bytes, {_writer.Muxer.RejectedFrames} frames refused ({_writer.Muxer.LastRejection}).");
        }
    }

    /// <summary>The media chunk bytes through a raw pipe in 64 KiB writes, nothing parsed.</summary>
    [Benchmark(Baseline = true)]
    public long PipeCopy() => _pipe.Copy(_media);

    /// <summary>From one contiguous buffer of chunks.</summary>
    /// <returns>TS bytes written.</returns>
    [Benchmark]
    public long ChunksToTs()
    {
        Process(new ReadOnlySequence<byte>(_media));
        return _writer.Finish();
    }

    /// <summary>Through a real pipe written in 64 KiB pieces, read as the session's loop does.</summary>
    /// <returns>TS bytes written.</returns>
    [Benchmark]
    public long ChunksToTsThroughPipe()
    {
        var input = _media.AsSpan();
        for (var offset = 0; offset < input.Length; offset += PipeFeeder.WriteSize)
        {
            _pipe.Write(input.Slice(offset, Math.Min(PipeFeeder.WriteSize, input.Length - offset)));
            var buffer = _pipe.Read();
            var consumed = Process(buffer);
            _pipe.AdvanceTo(consumed, buffer.End);
        }

        _pipe.Reset();
        return _writer.Finish();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _reader.Dispose();
        _writer.Dispose();
    }

    private SequencePosition Process(in ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        while (_reader.TryRead(ref reader, out var message))
        {
            try
            {
                OnMessage(message);
            }
            finally
            {
                message.Payload.Release();
            }
        }

        return reader.Position;
    }

    // What RtmpServerSession.OnMedia does, with the TS muxer in place of Publisher.Publish.
    private void OnMessage(in RtmpMessage message)
    {
        if (!_timeline.TryMap(message, out var type, out var timestamp, out var body)
            || FlvDemuxer.Demux(type, timestamp, message.Payload, body, out var frame, out _) != FlvDemuxStatus.Frame)
        {
            return;
        }

        try
        {
            _writer.Write(frame);
        }
        finally
        {
            frame.Payload.Release();
        }
    }
}
