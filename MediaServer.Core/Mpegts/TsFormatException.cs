using System.Diagnostics.CodeAnalysis;

namespace MediaServer.Core.Mpegts;

/// <summary>Why MPEG-TS bytes were rejected when read back.</summary>
public enum TsFormatError
{
    Truncated = 1,
    InvalidSyncByte = 2,
    InvalidLength = 3,
}

/// <summary>Malformed MPEG-TS bytes (only read back in diagnostics and tests; the muxer itself only writes).</summary>
public sealed class TsFormatException(TsFormatError error, string message) : FormatException(message)
{
    public TsFormatError Error { get; } = error;

    [DoesNotReturn]
    internal static void Throw(TsFormatError error, string message) => throw new TsFormatException(error, message);
}
