using System.Diagnostics.CodeAnalysis;

namespace MediaServer.Core.Flv;

/// <summary>Bounds applied to lengths read from FLV tags and files.</summary>
public static class FlvLimits
{
    /// <summary>
    /// Largest tag body: the FLV tag header's DataSize and the RTMP message length are both UI24, so nothing
    /// larger can be represented on either wire; a bigger span is a caller bug or a hostile input.
    /// </summary>
    public const int MaxTagBodyLength = 0xFFFFFF;

    /// <summary>Largest FLV file header DataOffset we skip to: the v1 header is 9 bytes; allow a little slack for
    /// writers that pad it, but never let a file make us wait for megabytes before the first tag.</summary>
    public const int MaxFileHeaderLength = 1024;

    /// <summary>Smallest / largest signed 24-bit composition time (SI24).</summary>
    public const int MinCompositionTime = -0x800000;

    /// <inheritdoc cref="MinCompositionTime"/>
    public const int MaxCompositionTime = 0x7FFFFF;
}

/// <summary>Throw helpers so the parsing methods stay small and inlinable.</summary>
internal static class FlvThrow
{
    [DoesNotReturn]
    public static void Format(FlvError error) => throw new FlvFormatException(error, GetMessage(error));

    [DoesNotReturn]
    public static T Format<T>(FlvError error) => throw new FlvFormatException(error, GetMessage(error));

    private static string GetMessage(FlvError error) => error switch
    {
        FlvError.TruncatedHeader => "The FLV tag body is shorter than its header.",
        FlvError.InvalidPacketType => "The FLV tag uses a reserved packet type.",
        FlvError.InvalidScriptData => "The FLV script data does not start with an AMF0 string name.",
        FlvError.TooLarge => "An FLV length exceeds its limit.",
        FlvError.InvalidFrameType => "The FLV video tag uses a reserved frame type.",
        FlvError.InvalidMultitrack => "The Enhanced RTMP multitrack header is invalid.",
        FlvError.InvalidFileHeader => "The FLV file header is invalid.",
        FlvError.InvalidTagHeader => "The FLV file tag header is invalid (encrypted tags are not supported).",
        _ => "The FLV data is malformed.",
    };
}
