using System.Globalization;

namespace MediaServer.Hls.Playlists;

/// <summary>One media segment of a playlist read back: its URI line and its EXTINF duration.</summary>
public readonly record struct PlaylistEntry(string Uri, long DurationMs);

/// <summary>A media playlist read back (the parts of it we write and need again).</summary>
/// <param name="Type">EXT-X-PLAYLIST-TYPE, or <see cref="PlaylistType.Live"/> when absent.</param>
/// <param name="TargetDuration">EXT-X-TARGETDURATION, 0 when absent.</param>
/// <param name="Entries">The segments, in order.</param>
/// <param name="Ended">Whether EXT-X-ENDLIST was present.</param>
public sealed record ReadMediaPlaylist(PlaylistType Type, int TargetDuration, IReadOnlyList<PlaylistEntry> Entries, bool Ended);

/// <summary>
/// Reads a media playlist of the kind <see cref="MediaPlaylistWriter"/> writes (RFC 8216 §4.3): a recording
/// on disk, read back to list it or to finish it after a crash. Lenient in what it skips (unknown tags,
/// blank lines, a last line cut short), exact in what it keeps: an EXTINF it cannot read gives the segment
/// no duration rather than a wrong one.
/// </summary>
public static class MediaPlaylistReader
{
    /// <summary>The tag that ends a playlist.</summary>
    public const string EndTag = "#EXT-X-ENDLIST";

    private const string InfTag = "#EXTINF:";
    private const string TypeTag = "#EXT-X-PLAYLIST-TYPE:";
    private const string TargetTag = "#EXT-X-TARGETDURATION:";

    /// <summary>Reads the playlist from <paramref name="reader"/> to its end.</summary>
    public static ReadMediaPlaylist Read(TextReader reader)
    {
        var type = PlaylistType.Live;
        var target = 0;
        var ended = false;
        long pendingMs = 0;
        var entries = new List<PlaylistEntry>();
        while (reader.ReadLine() is { } line)
        {
            var text = line.AsSpan().Trim();
            if (text.StartsWith(InfTag, StringComparison.Ordinal))
            {
                var value = text[InfTag.Length..];
                var comma = value.IndexOf(',');
                pendingMs = TryParseDurationMs(comma < 0 ? value : value[..comma], out var ms) ? ms : 0;
            }
            else if (text.StartsWith(TypeTag, StringComparison.Ordinal))
            {
                type = text[TypeTag.Length..] switch
                {
                    "EVENT" => PlaylistType.Event,
                    "VOD" => PlaylistType.Vod,
                    _ => PlaylistType.Live,
                };
            }
            else if (text.StartsWith(TargetTag, StringComparison.Ordinal))
            {
                _ = int.TryParse(text[TargetTag.Length..], NumberStyles.None, CultureInfo.InvariantCulture, out target);
            }
            else if (text.SequenceEqual(EndTag))
            {
                ended = true;
            }
            else if (text.Length > 0 && text[0] != '#')
            {
                entries.Add(new PlaylistEntry(text.ToString(), pendingMs));
                pendingMs = 0;
            }
        }

        return new ReadMediaPlaylist(type, target, entries, ended);
    }

    /// <summary>
    /// Parses an EXTINF duration in seconds (<c>decimal-floating-point</c>, §4.3.2.1) to whole milliseconds,
    /// rounding past the third decimal down (<c>.5</c> and <c>1.</c> read as 500 and 1000, as .NET's decimal parser does). False for anything else (signs, exponents, empty, overflow).
    /// </summary>
    public static bool TryParseDurationMs(ReadOnlySpan<char> seconds, out long milliseconds)
    {
        milliseconds = 0;
        var dot = seconds.IndexOf('.');
        var whole = dot < 0 ? seconds : seconds[..dot];
        var fraction = dot < 0 ? default : seconds[(dot + 1)..];
        long wholeSeconds = 0;
        if ((whole.IsEmpty && fraction.IsEmpty)
            || (!whole.IsEmpty && !long.TryParse(whole, NumberStyles.None, CultureInfo.InvariantCulture, out wholeSeconds))
            || wholeSeconds > (long.MaxValue - 999) / 1000
            || fraction.IndexOfAnyExceptInRange('0', '9') >= 0)
        {
            return false;
        }

        long ms = 0;
        for (var i = 0; i < 3; i++)
        {
            ms = (ms * 10) + (i < fraction.Length ? fraction[i] - '0' : 0);
        }

        milliseconds = (wholeSeconds * 1000) + ms;
        return true;
    }
}
