using System.Buffers;

namespace MediaServer.Core.Media;

/// <summary>Why a <see cref="ISegmentMuxer"/> refused a frame.</summary>
public enum MuxRejection : byte
{
    /// <summary>Accepted.</summary>
    None = 0,

    /// <summary>A codec (or kind) the container cannot carry.</summary>
    UnsupportedCodec = 1,

    /// <summary>Media before its codec configuration.</summary>
    NoConfig = 2,

    /// <summary>A configuration record we cannot parse or cannot express in the container (e.g. AAC object type 5 core in ADTS).</summary>
    InvalidConfig = 3,

    /// <summary>Media whose NAL lengths lie, or an audio frame too long for its header.</summary>
    MalformedFrame = 4,
}

/// <summary>
/// A container muxer as the HLS segmenter drives it: codec configuration apart from media, media frames into the
/// segment being built, and the segment's start and end. MPEG-TS (<see cref="Mpegts.TsMuxer"/>) and fragmented MP4
/// (<see cref="Mp4.Fmp4Muxer"/>, which holds frames until <see cref="Flush"/> writes a fragment) implement it; one
/// instance per stream, single-threaded.
/// </summary>
public interface ISegmentMuxer
{
    /// <summary>Whether the container can carry this codec (others are skipped with a diagnostic).</summary>
    bool IsSupported(MediaCodec codec);

    /// <summary>Applies a sequence header (a <see cref="FrameFlags.Config"/> frame); writes nothing.</summary>
    MuxRejection Configure(in MediaFrame config);

    /// <summary>Writes one media frame into the segment being built; returns why it was refused, having written nothing.</summary>
    MuxRejection Write(in MediaFrame frame, IBufferWriter<byte> output);

    /// <summary>Writes what a segment starts with (PAT/PMT for TS).</summary>
    void BeginSegment(IBufferWriter<byte> output);

    /// <summary>Writes anything held back, so the output so far is a complete segment.</summary>
    void Flush(IBufferWriter<byte> output);
}

/// <summary>
/// A container whose segments need an initialization segment (fMP4: <c>ftyp</c>/<c>moov</c>, referenced by
/// EXT-X-MAP). The version changes when a codec configuration changes, so the playlist names a new one.
/// </summary>
public interface IInitSegmentMuxer
{
    /// <summary>Goes up each time the initialization segment changes; 0 before any configuration.</summary>
    int InitSegmentVersion { get; }

    /// <summary>Writes the current initialization segment.</summary>
    void WriteInitSegment(IBufferWriter<byte> output);
}
