using BenchmarkDotNet.Attributes;
using MediaServer.Benchmarks.Infrastructure;
using MediaServer.Benchmarks.Inputs;
using MediaServer.Core.Codecs;
using MediaServer.Core.Codecs.H264;
using MediaServer.Core.Flv;

namespace MediaServer.Benchmarks.Core;

/// <summary>
/// AVCC (length-prefixed) → Annex B (start codes) with <see cref="AnnexB.Convert"/>: every video frame of the
/// media, each into the same reused buffer.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(MediaBenchmarkConfig))]
[MediaThroughput(MediaInput.VideoTags)]
public class AnnexBBenchmarks
{
    // Legacy AVC video tag: VideoTagHeader (1) + AVCPacketType (1) + CompositionTime (3), then the access unit.
    private const int AvcHeaderLength = 5;

    private readonly PipeFeeder _pipe = new();
    private ReadOnlyMemory<byte>[] _accessUnits = [];
    private byte[] _bodies = [];
    private int _nalUnitLengthSize;
    private ReusableBufferWriter _output = null!;

    [GlobalSetup]
    public void Setup()
    {
        var media = BenchmarkMedia.Shared;
        var config = Array.Find(media.PreambleTags, static t => t.Type == FlvTagType.Video);
        _nalUnitLengthSize = AvcDecoderConfigurationRecord.Parse(config.Body.AsSpan(AvcHeaderLength)).NalUnitLengthSize;
        var video = Array.FindAll(media.MediaTags, static t => t.Type == FlvTagType.Video);
        _accessUnits = Array.ConvertAll(video, static t => (ReadOnlyMemory<byte>)t.Body.AsMemory(AvcHeaderLength));
        _bodies = [.. video.SelectMany(static t => t.Body)];
        var largest = _accessUnits.Max(static a => a.Length);
        _output = new ReusableBufferWriter(largest * 2);
        if (ConvertAllFrames() <= 0)
        {
            throw new InvalidOperationException("Nothing converted.");
        }
    }

    /// <summary>The video tag bodies, concatenated, through a raw pipe: a memory-copy reference.</summary>
    [Benchmark(Baseline = true)]
    public long PipeCopy() => _pipe.Copy(_bodies);

    [Benchmark]
    public long ConvertAllFrames()
    {
        long total = 0;
        foreach (var accessUnit in _accessUnits)
        {
            _output.Reset();
            total += AnnexB.Convert(accessUnit.Span, _nalUnitLengthSize, _output);
        }

        return total;
    }

    [GlobalCleanup]
    public void Cleanup() => _output.Dispose();
}
