// CONTRACT: signatures agreed between the RTMP session (caller) and the FLV layer (implementation).
// Bodies marked "not implemented yet" are filled in by the FLV work.
using System.Buffers;
using MediaServer.Core.Media;

namespace MediaServer.Core.Flv;

/// <summary>FLV tag types (FLV spec v10.1 §E.4.1), which are also the RTMP message type ids of media.</summary>
public enum FlvTagType : byte
{
    Audio = 8,
    Video = 9,
    Script = 18,
}

/// <summary>Outcome of demuxing one FLV tag body.</summary>
public enum FlvDemuxStatus : byte
{
    /// <summary>A frame was produced; the caller owns one reference on its payload.</summary>
    Frame = 0,

    /// <summary>Well-formed but carries nothing for the media model (empty body, metadata we skip, ...).</summary>
    Ignored = 1,

    /// <summary>A codec we cannot carry; <c>unsupportedCodec</c> names it for the log and the stream status.</summary>
    UnsupportedCodec = 2,
}

/// <summary>
/// FLV tag body ⇄ <see cref="MediaFrame"/>: legacy FLV audio/video tags (FLV spec v10.1 §E.4.2-E.4.3) and
/// Enhanced RTMP v1/v2 extended headers (ExVideoTagHeader/ExAudioTagHeader, FourCC codecs).
/// </summary>
public static partial class FlvDemuxer
{
    /// <summary>
    /// Parses one audio, video or script tag body (an RTMP message payload) into a frame whose payload is
    /// copied into a pooled <see cref="Buffers.MediaBuffer"/>.
    /// </summary>
    /// <param name="type">Tag (message) type.</param>
    /// <param name="timestamp">Extended (64-bit) timestamp in milliseconds.</param>
    /// <param name="body">The tag body.</param>
    /// <param name="frame">The frame, when <see cref="FlvDemuxStatus.Frame"/> is returned.</param>
    /// <param name="unsupportedCodec">A human-readable codec name when <see cref="FlvDemuxStatus.UnsupportedCodec"/> is returned.</param>
    /// <exception cref="FlvFormatException">The body is malformed (truncated header, bad packet type).</exception>
    public static partial FlvDemuxStatus Demux(FlvTagType type, long timestamp, ReadOnlySpan<byte> body, out MediaFrame frame, out string? unsupportedCodec);
}

/// <summary>Writes a <see cref="MediaFrame"/> back as an FLV tag body (for RTMP play and restreaming).</summary>
public static partial class FlvMuxer
{
    /// <summary>The tag (message) type for a frame.</summary>
    public static FlvTagType GetTagType(in MediaFrame frame) => frame.Kind switch
    {
        MediaKind.Video => FlvTagType.Video,
        MediaKind.Audio => FlvTagType.Audio,
        _ => FlvTagType.Script,
    };

    /// <summary>Exact size of the tag body <see cref="WriteTagBody"/> writes.</summary>
    public static partial int GetTagBodyLength(in MediaFrame frame);

    /// <summary>
    /// Writes the tag body: legacy headers for H.264, AAC and MP3 (what every player understands), Enhanced
    /// RTMP headers with FourCC for HEVC, AV1, VP9, Opus and the other extended codecs.
    /// </summary>
    public static partial void WriteTagBody(in MediaFrame frame, IBufferWriter<byte> output);
}

/// <summary>Why an FLV tag body was rejected.</summary>
public enum FlvError
{
    /// <summary>The body (or file) ends inside a header field.</summary>
    TruncatedHeader = 1,

    /// <summary>A reserved AVC/AAC/Enhanced RTMP packet type.</summary>
    InvalidPacketType = 2,

    /// <summary>Script data that does not start with an AMF0 string name (after any <c>@setDataFrame</c>).</summary>
    InvalidScriptData = 3,

    /// <summary>A body or length field beyond <see cref="FlvLimits"/>.</summary>
    TooLarge = 4,

    /// <summary>A reserved video frame type (0, 6, 7).</summary>
    InvalidFrameType = 5,

    /// <summary>An Enhanced RTMP multitrack header with a reserved multitrack type or a track size past the body.</summary>
    InvalidMultitrack = 6,

    /// <summary>An FLV file header without the "FLV" signature, of another version, or with a bad data offset.</summary>
    InvalidFileHeader = 7,

    /// <summary>An FLV file tag header with the Filter (encryption) bit set.</summary>
    InvalidTagHeader = 8,
}

/// <summary>A malformed FLV tag body. The frame is dropped and counted; the connection goes on.</summary>
public sealed class FlvFormatException(FlvError error, string message) : FormatException(message)
{
    public FlvError Error { get; } = error;
}
