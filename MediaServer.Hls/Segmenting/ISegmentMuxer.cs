using System.Buffers;
using MediaServer.Core.Media;
using MediaServer.Core.Mpegts;

namespace MediaServer.Hls.Segmenting;

/// <summary>
/// What the segmenter needs from a container muxer (the seam over <see cref="TsMuxer"/>, so segmenting can
/// be tested without it and another container, e.g. fMP4, can be added later).
/// </summary>
public interface ISegmentMuxer
{
    /// <summary>Whether the container can carry this codec (others are skipped with a diagnostic).</summary>
    bool IsSupported(MediaCodec codec);

    /// <summary>Feeds one frame (config frames write nothing); false when the frame cannot be muxed.</summary>
    bool Write(in MediaFrame frame, IBufferWriter<byte> output);

    /// <summary>Writes what a segment starts with (PAT/PMT for TS).</summary>
    void WriteTables(IBufferWriter<byte> output);

    /// <summary>Writes anything held back, so the output so far is a complete segment.</summary>
    void Flush(IBufferWriter<byte> output);
}

/// <summary>The default <see cref="ISegmentMuxer"/>: our MPEG-TS muxer.</summary>
public sealed class TsSegmentMuxer : ISegmentMuxer
{
    private readonly TsMuxer _muxer = new();

    public bool IsSupported(MediaCodec codec) => TsMuxer.IsSupported(codec);

    public bool Write(in MediaFrame frame, IBufferWriter<byte> output) => _muxer.Write(frame, output);

    public void WriteTables(IBufferWriter<byte> output) => _muxer.WriteTables(output);

    public void Flush(IBufferWriter<byte> output) => _muxer.Flush(output);
}
