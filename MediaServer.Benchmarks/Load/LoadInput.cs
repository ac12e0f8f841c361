using System.Buffers;
using MediaServer.Core.Flv;
using MediaServer.Core.Media;

namespace MediaServer.Benchmarks.Load;

/// <summary>
/// The publishers' media: an FLV file read with <see cref="FlvFileReader"/> and demuxed once into frames shared
/// by every publisher (read-only). Timestamps are made relative to the first media frame; the file is looped
/// with each pass shifted by <see cref="LoopDuration"/> so the timeline never repeats or jumps.
/// </summary>
internal sealed class LoadInput : IDisposable
{
    private LoadInput(MediaFrame[] preamble, MediaFrame[] media, long loopDuration, long mediaBytes)
    {
        Preamble = preamble;
        Media = media;
        LoopDuration = loopDuration;
        MediaBytesPerLoop = mediaBytes;
    }

    /// <summary>Metadata and sequence headers, sent once at the start of a publish.</summary>
    public MediaFrame[] Preamble { get; }

    /// <summary>The audio and video frames in file order, timestamps from 0.</summary>
    public MediaFrame[] Media { get; }

    /// <summary>Milliseconds of one pass: the last frame's end (its timestamp plus the usual frame interval of its kind).</summary>
    public long LoopDuration { get; }

    /// <summary>Payload bytes of one pass of <see cref="Media"/>.</summary>
    public long MediaBytesPerLoop { get; }

    /// <summary>Media bit rate in bits per second.</summary>
    public double BitRate => MediaBytesPerLoop * 8_000.0 / LoopDuration;

    public static LoadInput Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        if (!FlvFileReader.TryReadHeader(ref reader, out _))
        {
            throw new InvalidDataException($"{path}: truncated FLV header.");
        }

        var preamble = new List<MediaFrame>();
        var media = new List<MediaFrame>();
        long? first = null;
        while (FlvFileReader.TryReadTag(ref reader, out var tag))
        {
            var body = tag.Body.IsSingleSegment ? tag.Body.FirstSpan : tag.Body.ToArray();
            if (FlvDemuxer.Demux(tag.Type, tag.Timestamp, body, out var frame, out _) != FlvDemuxStatus.Frame)
            {
                continue;
            }

            if (frame.IsConfig || frame.Kind == MediaKind.Data)
            {
                // Only the leading ones: a sequence header repeated mid-file would be sent again every loop.
                if (media.Count == 0)
                {
                    preamble.Add(frame.WithTimestamp(0));
                }
                else
                {
                    frame.Payload.Release();
                }

                continue;
            }

            first ??= frame.Timestamp;
            media.Add(frame.WithTimestamp(frame.Timestamp - first.Value));
        }

        if (media.Count == 0)
        {
            throw new InvalidDataException($"{path}: no audio or video frames.");
        }

        // A pass lasts as long as its video (the segmenter follows video); audio frames that would run past it
        // are left out, so the next pass neither overlaps nor leaves more than one audio frame of gap.
        var videoEnd = End(media, MediaKind.Video, out _);
        var audioEnd = End(media, MediaKind.Audio, out var audioFrame);
        var loop = videoEnd > 0 ? videoEnd : audioEnd;
        if (videoEnd > 0)
        {
            media.RemoveAll(frame =>
            {
                var drop = frame.IsAudio && frame.Timestamp + audioFrame > loop;
                if (drop)
                {
                    frame.Payload.Release();
                }

                return drop;
            });
        }

        long bytesPerLoop = 0;
        foreach (var frame in media)
        {
            bytesPerLoop += frame.Payload.Length;
        }

        return new LoadInput([.. preamble], [.. media], Math.Max(1, loop), bytesPerLoop);
    }

    // The last timestamp of a kind plus its median frame interval.
    private static long End(List<MediaFrame> frames, MediaKind kind, out long interval)
    {
        interval = 0;
        var deltas = new List<long>();
        long? previous = null;
        foreach (var frame in frames)
        {
            if (frame.Kind != kind)
            {
                continue;
            }

            if (previous is { } p && frame.Timestamp > p)
            {
                deltas.Add(frame.Timestamp - p);
            }

            previous = previous is { } q ? Math.Max(q, frame.Timestamp) : frame.Timestamp;
        }

        if (previous is null)
        {
            return 0;
        }

        deltas.Sort();
        interval = deltas.Count > 0 ? deltas[deltas.Count / 2] : 0;
        return previous.Value + interval;
    }

    public void Dispose()
    {
        foreach (var frame in Preamble)
        {
            frame.Payload.Release();
        }

        foreach (var frame in Media)
        {
            frame.Payload.Release();
        }
    }
}
