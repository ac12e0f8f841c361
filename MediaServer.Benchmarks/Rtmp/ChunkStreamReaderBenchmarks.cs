using System.Buffers;
using BenchmarkDotNet.Attributes;
using MediaServer.Rtmp.Chunking;
using MediaServer.Rtmp.Messages;

namespace MediaServer.Benchmarks.Rtmp;

/// <summary>
/// Reassembling a publish-like message stream (30 fps video of ~20 KB, 43 AAC frames/s of ~400 B) at chunk
/// sizes 128 and 4096. Report as MB/s of chunked input: <c>InputBytes / Mean</c>.
/// </summary>
[MemoryDiagnoser]
public class ChunkStreamReaderBenchmarks
{
    private byte[] _input = [];

    [Params(128, 4096)]
    public int ChunkSize { get; set; }

    public long InputBytes => _input.Length;

    [GlobalSetup]
    public void Setup()
    {
        var output = new ArrayBufferWriter<byte>();
        var writer = new ChunkStreamWriter();
        writer.Write(output, ProtocolControl.ChunkStreamId, RtmpMessageType.SetChunkSize, 0, 0, ProtocolControl.SetChunkSize(ChunkSize));
        writer.ChunkSize = ChunkSize;
        var random = new Random(1);
        var video = new byte[20_000];
        var audio = new byte[400];
        random.NextBytes(video);
        random.NextBytes(audio);
        for (var i = 0; i < 300; i++)
        {
            writer.Write(output, 6, RtmpMessageType.Video, (uint)(i * 33), 1, video.AsSpan(0, 15_000 + random.Next(5_000)));
            writer.Write(output, 4, RtmpMessageType.Audio, (uint)(i * 23), 1, audio);
        }

        _input = output.WrittenSpan.ToArray();
    }

    [Benchmark]
    public int ReadAll()
    {
        using var chunkReader = new ChunkStreamReader();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(_input));
        var count = 0;
        while (chunkReader.TryRead(ref reader, out var message))
        {
            message.Payload.Release();
            count++;
        }

        return count;
    }
}
