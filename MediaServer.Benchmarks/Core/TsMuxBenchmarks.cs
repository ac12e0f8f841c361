using BenchmarkDotNet.Attributes;
using MediaServer.Benchmarks.Infrastructure;
using MediaServer.Benchmarks.Inputs;
using MediaServer.Core.Flv;
using MediaServer.Core.Media;
using MediaServer.Core.Mpegts;

namespace MediaServer.Benchmarks.Core;

/// <summary>
/// <see cref="MediaFrame"/> → MPEG-TS with <see cref="TsMuxer.Write"/>: the steady-state frames of the media
/// (demuxed once in setup, payloads kept), segmented at keyframes with PAT/PMT as the HLS segmenter does.
/// The sequence headers are applied once in setup: a configuration arrives once per publish, not per frame.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(MediaBenchmarkConfig))]
[MediaThroughput(MediaInput.MediaTags)]
public class TsMuxBenchmarks
{
    private readonly PipeFeeder _pipe = new();
    private readonly List<MediaFrame> _owned = [];
    private MediaFrame[] _frames = [];
    private byte[] _bodies = [];
    private SegmentingTsWriter _writer = null!;

    [GlobalSetup]
    public void Setup()
    {
        var media = BenchmarkMedia.Shared;
        _writer = new SegmentingTsWriter();
        foreach (var frame in Demux(media.PreambleTags))
        {
            _writer.Write(frame);
        }

        _frames = Demux(media.MediaTags);
        _bodies = [.. media.MediaTags.SelectMany(static t => t.Body)];
        var written = MuxAllFrames();
        if (written <= 0 || written % 188 != 0 || _writer.Muxer.RejectedFrames != 0)
        {
            throw new InvalidOperationException($"TS check failed: {written} bytes, {_writer.Muxer.RejectedFrames} frames refused ({_writer.Muxer.LastRejection}).");
        }
    }

    /// <summary>The media tag bodies, concatenated, through a raw pipe: a memory-copy reference.</summary>
    [Benchmark(Baseline = true)]
    public long PipeCopy() => _pipe.Copy(_bodies);

    /// <returns>TS bytes written.</returns>
    [Benchmark]
    public long MuxAllFrames()
    {
        foreach (var frame in _frames)
        {
            _writer.Write(frame);
        }

        return _writer.Finish();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var frame in _owned)
        {
            frame.Payload.Release();
        }

        _owned.Clear();
        _writer.Dispose();
    }

    private MediaFrame[] Demux(MediaTag[] tags)
    {
        var frames = new List<MediaFrame>(tags.Length);
        foreach (var tag in tags)
        {
            if (FlvDemuxer.Demux(tag.Type, tag.Timestamp, tag.Body, out var frame, out _) == FlvDemuxStatus.Frame)
            {
                frames.Add(frame);
                _owned.Add(frame);
            }
        }

        return [.. frames];
    }
}
