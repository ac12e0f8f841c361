using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace MediaServer.Hls.Playlists;

/// <summary>
/// The segment file names, defined once for writing and parsing: live segments are
/// <c>{session}-{sequence}.ts</c> (the session prefix keeps a reconnecting publisher's new segments from
/// colliding with cached old ones); a recording session's folder holds <c>{sequence}.ts</c>.
/// </summary>
public static class SegmentNames
{
    /// <summary>The file extension of an MPEG-TS segment.</summary>
    public const string Extension = ".ts";

    /// <summary>The file extension of an fMP4 media segment or part.</summary>
    public const string Fmp4Extension = ".m4s";

    /// <summary>The media segment extension of a container.</summary>
    public static string ExtensionOf(HlsContainer container) => container == HlsContainer.Fmp4 ? Fmp4Extension : Extension;

    /// <summary>The initialization segment name, <c>{session}-init-{version}.mp4</c> (EXT-X-MAP).</summary>
    public static string Init(string sessionId, int version) =>
        string.Create(CultureInfo.InvariantCulture, $"{sessionId}-init-{version}.mp4");

    /// <summary>Parses an initialization segment name without <c>.mp4</c>: <c>{session}-init-{version}</c>.</summary>
    public static bool TryParseInit(ReadOnlySpan<char> stem, out ReadOnlySpan<char> sessionId, out int version)
    {
        var marker = stem.LastIndexOf("-init-");
        sessionId = marker > 0 ? stem[..marker] : default;
        version = 0;
        return marker > 0 && int.TryParse(stem[(marker + 6)..], NumberStyles.None, CultureInfo.InvariantCulture, out version);
    }

    /// <summary>Longest recording segment name accepted: a long in decimal and the extension.</summary>
    private const int MaxRecordingNameLength = 19 + 3;

    /// <summary>The live segment name, <c>{session}-{sequence}.ts</c>.</summary>
    public static string Live(string sessionId, long sequenceNumber) =>
        string.Create(CultureInfo.InvariantCulture, $"{sessionId}-{sequenceNumber}{Extension}");

    /// <summary>Writes the live segment name, <c>{session}-{sequence}.ts</c>, as UTF-8.</summary>
    public static void WriteLive(IBufferWriter<byte> output, string sessionId, long sequenceNumber, string extension = Extension)
    {
        var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(sessionId.Length) + 32);
        var written = Encoding.UTF8.GetBytes(sessionId, span);
        span[written++] = (byte)'-';
        Utf8Formatter.TryFormat(sequenceNumber, span[written..], out var digits);
        written += digits;
        written += Encoding.ASCII.GetBytes(extension, span[written..]);
        output.Advance(written);
    }

    /// <summary>Writes a live part name, <c>{session}-{sequence}.{part}.ts</c>, as UTF-8 (LL-HLS EXT-X-PART URIs).</summary>
    public static void WriteLivePart(IBufferWriter<byte> output, string sessionId, long sequenceNumber, int partIndex, string extension = Extension)
    {
        var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(sessionId.Length) + 48);
        var written = Encoding.UTF8.GetBytes(sessionId, span);
        span[written++] = (byte)'-';
        Utf8Formatter.TryFormat(sequenceNumber, span[written..], out var digits);
        written += digits;
        span[written++] = (byte)'.';
        Utf8Formatter.TryFormat(partIndex, span[written..], out digits);
        written += digits;
        written += Encoding.ASCII.GetBytes(extension, span[written..]);
        output.Advance(written);
    }

    /// <summary>
    /// Parses a live segment or part name without its extension: <c>{session}-{sequence}</c> (part null) or
    /// <c>{session}-{sequence}.{part}</c>.
    /// </summary>
    public static bool TryParseLive(ReadOnlySpan<char> stem, out ReadOnlySpan<char> sessionId, out long sequenceNumber, out int? partIndex)
    {
        partIndex = null;
        var dot = stem.LastIndexOf('.');
        if (dot >= 0)
        {
            if (!int.TryParse(stem[(dot + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var part))
            {
                sessionId = default;
                sequenceNumber = 0;
                return false;
            }

            partIndex = part;
            stem = stem[..dot];
        }

        return TryParseLive(stem, out sessionId, out sequenceNumber);
    }

    /// <summary>
    /// Parses a live segment name without its extension (<c>{session}-{sequence}</c>, as the route
    /// <c>{segment}.ts</c> captures it).
    /// </summary>
    public static bool TryParseLive(ReadOnlySpan<char> stem, out ReadOnlySpan<char> sessionId, out long sequenceNumber)
    {
        var dash = stem.LastIndexOf('-');
        sessionId = dash > 0 ? stem[..dash] : default;
        sequenceNumber = 0;
        return dash > 0
            && long.TryParse(stem[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out sequenceNumber);
    }

    /// <summary>The segment file name in a recording session folder, <c>{sequence}.ts</c>.</summary>
    public static string Recording(long sequenceNumber) =>
        sequenceNumber.ToString(CultureInfo.InvariantCulture) + Extension;

    /// <summary>Whether <paramref name="name"/> is a recording segment name: decimal digits and <c>.ts</c>, nothing
    /// that could form a path.</summary>
    public static bool IsRecording(ReadOnlySpan<char> name) =>
        name.Length is > 3 and <= MaxRecordingNameLength
        && name.EndsWith(Extension, StringComparison.Ordinal)
        && name[..^Extension.Length].IndexOfAnyExceptInRange('0', '9') < 0;
}
