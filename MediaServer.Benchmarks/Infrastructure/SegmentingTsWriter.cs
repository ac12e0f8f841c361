using MediaServer.Core.Media;
using MediaServer.Core.Mpegts;

namespace MediaServer.Benchmarks.Infrastructure;

/// <summary>
/// Drives a <see cref="TsMuxer"/> the way the HLS segmenter does, minus the policy: a new segment at every
/// video keyframe (the media's GOP is the 2 s target), the held audio flushed into the closing segment, then
/// PAT/PMT at the start of the next. Segments go into one reused pooled buffer; only their sizes are kept.
/// </summary>
public sealed class SegmentingTsWriter : IDisposable
{
    // Two seconds at 6 Mb/s plus TS overhead is about 1.6 MB; the buffer grows once if a segment is larger.
    private const int InitialSegmentCapacity = 4 * 1024 * 1024;

    private readonly ReusableBufferWriter _segment = new(InitialSegmentCapacity);
    private long _closedBytes;

    public TsMuxer Muxer { get; } = new();

    /// <summary>Feeds one frame (the caller keeps its reference).</summary>
    public void Write(in MediaFrame frame)
    {
        if (frame.IsVideo && frame.IsKeyframe && !frame.IsConfig)
        {
            Muxer.Flush(_segment);
            _closedBytes += _segment.WrittenCount;
            _segment.Reset();
            Muxer.BeginSegment(_segment);
        }

        Muxer.Write(frame, _segment);
    }

    /// <summary>Closes the last segment and returns the TS bytes written since the previous call.</summary>
    public long Finish()
    {
        Muxer.Flush(_segment);
        var total = _closedBytes + _segment.WrittenCount;
        _closedBytes = 0;
        _segment.Reset();
        return total;
    }

    public void Dispose() => _segment.Dispose();
}
