using BenchmarkDotNet.Attributes;
using MediaServer.Benchmarks.Infrastructure;
using MediaServer.Benchmarks.Inputs;
using MediaServer.Core.Buffers;
using MediaServer.Core.Flv;

namespace MediaServer.Benchmarks.Core;

/// <summary>
/// FLV tag bodies (RTMP message payloads) → <see cref="MediaServer.Core.Media.MediaFrame"/> with
/// <see cref="FlvDemuxer.Demux"/>: every tag of the file, each frame's pooled payload released at once.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(MediaBenchmarkConfig))]
[MediaThroughput(MediaInput.WholeStream)]
public class FlvDemuxBenchmarks
{
    private readonly PipeFeeder _pipe = new();
    private MediaTag[] _tags = [];
    private MediaBuffer[] _messages = [];
    private byte[] _bodies = [];

    [GlobalSetup]
    public void Setup()
    {
        _tags = BenchmarkMedia.Shared.Tags;
        _bodies = [.. _tags.SelectMany(static t => t.Body)];
        _messages = [.. _tags.Select(static t => MediaBuffer.CopyOf(t.Body))];
        if (DemuxAllTags() != _tags.Length)
        {
            throw new InvalidOperationException("Not every tag demuxed into a frame.");
        }
    }

    /// <summary>The tag bodies, concatenated, through a raw pipe: a memory-copy reference.</summary>
    [Benchmark(Baseline = true)]
    public long PipeCopy() => _pipe.Copy(_bodies);

    [Benchmark]
    public int DemuxAllTags()
    {
        var frames = 0;
        foreach (var tag in _tags)
        {
            if (FlvDemuxer.Demux(tag.Type, tag.Timestamp, tag.Body, out var frame, out _) == FlvDemuxStatus.Frame)
            {
                frames++;
                frame.Payload.Release();
            }
        }

        return frames;
    }

    /// <summary>As the RTMP session does: each frame's payload is a slice of the message's buffer, not a copy.</summary>
    [Benchmark]
    public int DemuxAllTagsSliced()
    {
        var frames = 0;
        for (var i = 0; i < _tags.Length; i++)
        {
            var message = _messages[i];
            if (FlvDemuxer.Demux(_tags[i].Type, _tags[i].Timestamp, message, message.Span, out var frame, out _) == FlvDemuxStatus.Frame)
            {
                frames++;
                frame.Payload.Release();
            }
        }

        return frames;
    }
}
