using System.Globalization;

namespace MediaServer.Benchmarks.Load;

/// <summary>One segment line of a media playlist.</summary>
internal readonly record struct PlaylistSegment(long Sequence, double Duration, Uri Uri);

/// <summary>A media playlist as a player reads it (RFC 8216 §4.3.3): target duration, media sequence, segments.</summary>
internal sealed record MediaPlaylistView(double TargetDuration, long MediaSequence, bool Ended, List<PlaylistSegment> Segments)
{
    public long NextSequence => MediaSequence + Segments.Count;

    public static MediaPlaylistView Parse(string text, Uri baseUri)
    {
        double target = 2;
        long sequence = 0;
        var ended = false;
        double? duration = null;
        var segments = new List<PlaylistSegment>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0)
            {
                continue;
            }

            if (line.StartsWith("#EXT-X-TARGETDURATION:", StringComparison.Ordinal))
            {
                target = double.Parse(line.AsSpan(22), CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("#EXT-X-MEDIA-SEQUENCE:", StringComparison.Ordinal))
            {
                sequence = long.Parse(line.AsSpan(22), CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("#EXTINF:", StringComparison.Ordinal))
            {
                var comma = line.IndexOf(',', StringComparison.Ordinal);
                duration = double.Parse(comma < 0 ? line.AsSpan(8) : line.AsSpan(8, comma - 8), CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("#EXT-X-ENDLIST", StringComparison.Ordinal))
            {
                ended = true;
            }
            else if (!line.StartsWith('#') && duration is { } d)
            {
                segments.Add(new PlaylistSegment(sequence + segments.Count, d, new Uri(baseUri, line)));
                duration = null;
            }
        }

        return new MediaPlaylistView(target, sequence, ended, segments);
    }
}

/// <summary>
/// Fetches a stream's playlist over HTTP like a player: the URL may name a multivariant playlist (ours), which is
/// followed to its first variant, or a media playlist (nginx-rtmp). Counts the bytes it receives.
/// </summary>
internal sealed class HlsPlaylistClient(HttpClient http, Uri playlistUri)
{
    private Uri? _media;
    private long _bytes;

    /// <summary>Bytes of playlists and segments received.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>The media playlist's URI, once the first fetch found it.</summary>
    public Uri? MediaUri => _media;

    /// <summary>The media playlist, or null while the stream has none yet (404 before its first segment).</summary>
    public async Task<MediaPlaylistView?> FetchAsync(CancellationToken cancellationToken)
    {
        if (_media is null)
        {
            var top = await GetTextAsync(playlistUri, cancellationToken).ConfigureAwait(false);
            if (top is null)
            {
                return null;
            }

            if (!top.Contains("#EXT-X-STREAM-INF", StringComparison.Ordinal))
            {
                _media = playlistUri;
                return MediaPlaylistView.Parse(top, playlistUri);
            }

            var lines = top.Split('\n');
            for (var i = 0; i < lines.Length && _media is null; i++)
            {
                if (lines[i].StartsWith("#EXT-X-STREAM-INF", StringComparison.Ordinal))
                {
                    for (var j = i + 1; j < lines.Length; j++)
                    {
                        var line = lines[j].Trim();
                        if (line.Length > 0 && !line.StartsWith('#'))
                        {
                            _media = new Uri(playlistUri, line);
                            break;
                        }
                    }
                }
            }

            if (_media is null)
            {
                throw new InvalidDataException($"{playlistUri}: multivariant playlist without a variant URI.");
            }
        }

        var text = await GetTextAsync(_media, cancellationToken).ConfigureAwait(false);
        return text is null ? null : MediaPlaylistView.Parse(text, _media);
    }

    private async Task<string?> GetTextAsync(Uri uri, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(uri, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }

        response.EnsureSuccessStatusCode();
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        Interlocked.Add(ref _bytes, bytes.Length);
        return System.Text.Encoding.UTF8.GetString(bytes);
    }

    /// <summary>
    /// Downloads a segment into <paramref name="buffer"/> (grown as needed); with <paramref name="headOnly"/> reads only
    /// its first 64 KiB (asked with a Range header, the connection dropped if the server sends more). Returns the length.
    /// </summary>
    public async Task<int> GetSegmentAsync(Uri uri, bool headOnly, byte[][] buffer, CancellationToken cancellationToken) =>
        (await GetSegmentWithSizeAsync(uri, headOnly, buffer, cancellationToken).ConfigureAwait(false)).Read;

    /// <summary>As <see cref="GetSegmentAsync"/>, with the segment's whole size (from Content-Range or Content-Length).</summary>
    public async Task<(int Read, long? Size)> GetSegmentWithSizeAsync(Uri uri, bool headOnly, byte[][] buffer, CancellationToken cancellationToken)
    {
        const int HeadBytes = 64 * 1024;
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        if (headOnly)
        {
            request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(0, HeadBytes - 1);
        }

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var length = 0;
            var limit = headOnly ? HeadBytes : int.MaxValue;
            while (length < limit)
            {
                if (length == buffer[0].Length)
                {
                    Array.Resize(ref buffer[0], buffer[0].Length * 2);
                }

                var read = await stream.ReadAsync(buffer[0].AsMemory(length, Math.Min(buffer[0].Length, limit) - length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                length += read;
            }

            Interlocked.Add(ref _bytes, length);
            return (length, response.Content.Headers.ContentRange?.Length ?? response.Content.Headers.ContentLength);
        }
    }
}
