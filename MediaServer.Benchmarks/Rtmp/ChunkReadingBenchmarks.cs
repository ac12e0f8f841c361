using System.Buffers;
using BenchmarkDotNet.Attributes;
using MediaServer.Benchmarks.Infrastructure;
using MediaServer.Benchmarks.Inputs;
using MediaServer.Rtmp.Chunking;

namespace MediaServer.Benchmarks.Rtmp;

/// <summary>
/// RTMP chunk stream → messages with <see cref="ChunkStreamReader"/>: the whole 10 s publish (Set Chunk Size,
/// metadata, sequence headers, media), each message's pooled payload released as the session does after
/// handling it. One reader per benchmark, reused: its per-connection state is allocated once, as on a live
/// connection.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(MediaBenchmarkConfig))]
[MediaThroughput(MediaInput.WholeStream)]
public class ChunkReadingBenchmarks
{
    private readonly ChunkStreamReader _segmentReader = new();
    private readonly ChunkStreamReader _pipeReader = new();
    private readonly PipeFeeder _pipe = new();
    private byte[] _chunks = [];
    private int _expectedMessages;

    [Params(128, 4096)]
    public int ChunkSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var media = BenchmarkMedia.Shared;
        _chunks = media.ToChunkStream(ChunkSize).Whole;
        _expectedMessages = media.Tags.Length + 1; // + Set Chunk Size
        Check(nameof(ReadSingleSegment), ReadSingleSegment());
        Check(nameof(ReadThroughPipe), ReadThroughPipe());
        Check(nameof(PipeCopy), PipeCopy() == _chunks.Length ? _expectedMessages : -1);
    }

    /// <summary>The same bytes through a raw <see cref="System.IO.Pipelines.Pipe"/> in 64 KiB writes, nothing parsed.</summary>
    [Benchmark(Baseline = true)]
    public long PipeCopy() => _pipe.Copy(_chunks);

    /// <summary>All messages from one contiguous buffer.</summary>
    [Benchmark]
    public int ReadSingleSegment()
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(_chunks));
        var messages = 0;
        while (_segmentReader.TryRead(ref reader, out var message))
        {
            messages++;
            message.Payload.Release();
        }

        return messages;
    }

    /// <summary>
    /// All messages through a real pipe written in 64 KiB pieces, read as the session's loop does: parse what
    /// is there, <c>AdvanceTo(consumed, end)</c> once per read.
    /// </summary>
    [Benchmark]
    public int ReadThroughPipe()
    {
        var input = _chunks.AsSpan();
        var messages = 0;
        for (var offset = 0; offset < input.Length; offset += PipeFeeder.WriteSize)
        {
            _pipe.Write(input.Slice(offset, Math.Min(PipeFeeder.WriteSize, input.Length - offset)));
            var buffer = _pipe.Read();
            var reader = new SequenceReader<byte>(buffer);
            while (_pipeReader.TryRead(ref reader, out var message))
            {
                messages++;
                message.Payload.Release();
            }

            _pipe.AdvanceTo(reader.Position, buffer.End);
        }

        _pipe.Reset();
        return messages;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _segmentReader.Dispose();
        _pipeReader.Dispose();
    }

    private void Check(string name, long messages)
    {
        if (messages != _expectedMessages)
        {
            throw new InvalidOperationException($"{name} read {messages} messages, expected {_expectedMessages}.");
        }
    }
}
