using System.Diagnostics.CodeAnalysis;

namespace MediaServer.Core.Codecs;

/// <summary>Why codec data (a configuration record, a NAL unit stream, an audio header) was rejected.</summary>
public enum CodecError
{
    /// <summary>The data ends before a field it announces.</summary>
    Truncated = 1,

    /// <summary>A version or reserved field has a value the specification forbids.</summary>
    InvalidVersion = 2,

    /// <summary>A count (parameter sets, arrays) exceeds our limit.</summary>
    TooMany = 3,

    /// <summary>A length exceeds our limit or the data that holds it.</summary>
    InvalidLength = 4,

    /// <summary>A field has a value outside its range (NAL length size, sampling index, channel config...).</summary>
    InvalidValue = 5,

    /// <summary>Well-formed, but not representable where we must write it (e.g. an AAC object type ADTS cannot carry).</summary>
    Unsupported = 6,

    /// <summary>An exp-Golomb code is longer than 32 bits.</summary>
    InvalidExpGolomb = 7,
}

/// <summary>Malformed or unsupported codec data. The frame (or configuration) is dropped and counted.</summary>
public sealed class CodecException(CodecError error, string message) : FormatException(message)
{
    public CodecError Error { get; } = error;
}

internal static class CodecThrow
{
    [DoesNotReturn]
    public static void Throw(CodecError error, string message) => throw new CodecException(error, message);

    [DoesNotReturn]
    public static T Throw<T>(CodecError error, string message) => throw new CodecException(error, message);
}
