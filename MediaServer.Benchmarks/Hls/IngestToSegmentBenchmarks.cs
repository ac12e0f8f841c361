using System.Buffers;
using BenchmarkDotNet.Attributes;
using MediaServer.Benchmarks.Infrastructure;
using MediaServer.Benchmarks.Inputs;
using MediaServer.Core.Flv;
using MediaServer.Core.Mpegts;
using MediaServer.Hls;
using MediaServer.Hls.Segmenting;
using MediaServer.Hls.Storage;
using MediaServer.Rtmp.Chunking;
using MediaServer.Rtmp.Messages;

namespace MediaServer.Benchmarks.Hls;

/// <summary>
/// Ingest to HLS segment end to end in memory, with the product's own segmenting: RTMP chunk bytes →
/// <see cref="ChunkStreamReader"/> → <see cref="FlvDemuxer"/> → <see cref="HlsSegmenter"/> (policy: cut at the
/// first keyframe after 2 s) → <see cref="TsMuxer"/> into pooled <see cref="SegmentBuffer"/>s published to a
/// live <see cref="HlsStream"/> (6-segment window: the oldest segment is released, the playlist re-rendered).
/// Each operation is the 10 s of steady-state media, its timestamps shifted on by 10 s each time so the stream
/// runs on as one continuous live timeline. The store's clock follows the media (<see cref="MediaClock"/>), as
/// it would at real time: removed segments stay downloadable for 14 s of it and then return their pooled
/// chunks, as in the server. Allocations per operation are per segment (5 per operation: the segment and its
/// chunk list, its window entry, the rendered playlist), none per chunk, frame or TS packet.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(MediaBenchmarkConfig))]
[MediaThroughput(MediaInput.MediaTags)]
public class IngestToSegmentBenchmarks
{
    private ChunkStreamReader _reader = null!;
    private HlsStream _stream = null!;
    private HlsSegmenter _segmenter = null!;
    private RtmpMediaTimeline _timeline;
    private byte[] _media = [];
    private long _offset;
    private long _passDuration;
    private readonly MediaClock _clock = new();

    [Params(128, 4096)]
    public int ChunkSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var media = BenchmarkMedia.Shared;
        var parts = media.ToChunkStream(ChunkSize);
        var options = new HlsOptions();
        _reader = new ChunkStreamReader();
        _stream = new HlsStream("bench", options, _clock);
        _segmenter = new HlsSegmenter(_stream, new TsMuxer(), new SegmentationPolicy(options), _clock);

        // One pass lasts from the first media tag to the last video tag plus one frame (30 fps).
        var first = media.MediaTags[0].Timestamp;
        var last = Array.FindLast(media.MediaTags, static t => t.Type == FlvTagType.Video).Timestamp;
        _passDuration = last - first + 33;
        Process(new ReadOnlySequence<byte>(parts.Preamble));
        _media = parts.Media;
        var segments = _stream.NextSequenceNumber;
        IngestToSegments();
        IngestToSegments();
        if (_stream.NextSequenceNumber - segments < 8 || _segmenter.RefusedFrames != 0 || _segmenter.DroppedFrames > 200)
        {
            throw new InvalidOperationException($"Segmenting check failed: {_stream.NextSequenceNumber - segments} segments, {_segmenter.RefusedFrames} refused, {_segmenter.DroppedFrames} dropped.");
        }
    }

    /// <summary>10 s of chunks in, about 5 segments published.</summary>
    /// <returns>The next media sequence number.</returns>
    [Benchmark]
    public long IngestToSegments()
    {
        Process(new ReadOnlySequence<byte>(_media));
        _offset += _passDuration;
        return _stream.NextSequenceNumber;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _reader.Dispose();
        _stream.Dispose();
    }

    private void Process(in ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        while (_reader.TryRead(ref reader, out var message))
        {
            try
            {
                if (_timeline.TryMap(message, out var type, out var timestamp, out var body)
                    && FlvDemuxer.Demux(type, timestamp, message.Payload, body, out var frame, out _) == FlvDemuxStatus.Frame)
                {
                    try
                    {
                        _clock.Milliseconds = frame.Timestamp + _offset;
                        _segmenter.Process(frame.WithTimestamp(frame.Timestamp + _offset));
                    }
                    finally
                    {
                        frame.Payload.Release();
                    }
                }
            }
            finally
            {
                message.Payload.Release();
            }
        }
    }

    /// <summary>A clock that reads the media time of the frame being processed (real time, as far as the store can tell).</summary>
    private sealed class MediaClock : TimeProvider
    {
        public long Milliseconds { get; set; }

        public override long TimestampFrequency => 1000;

        public override long GetTimestamp() => Milliseconds;

        public override DateTimeOffset GetUtcNow() => DateTimeOffset.UnixEpoch.AddMilliseconds(Milliseconds);
    }
}
