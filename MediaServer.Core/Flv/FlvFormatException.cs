namespace MediaServer.Core.Flv;

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
