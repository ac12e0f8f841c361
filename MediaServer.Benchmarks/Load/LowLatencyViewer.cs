using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace MediaServer.Benchmarks.Load;

/// <summary>
/// An LL-HLS viewer as hls.js behaves in low-latency mode (RFC 8216bis §6.2.5): it asks for the next part with a
/// blocking playlist request (<c>_HLS_msn=M&amp;_HLS_part=N</c>, computed from the playlist as any client does:
/// M = media sequence + segments listed, N = parts listed after the last segment), then downloads the part the
/// answer lists. It is <em>behind</em> when an answer lists more than three parts past the one it asked for.
/// Every answer's arrival time is recorded per part in a table shared by all viewers of a stream, so the fan-out
/// delay (each answer against the first answer for the same part) tells how long the server takes to release a
/// thousand waiting requests once the part exists.
/// </summary>
internal sealed class LowLatencyViewer(HttpClient http, Uri playlistUri, ConcurrentDictionary<(long, int), long> firstAnswers)
{
    private Uri? _media;

    public long Parts { get; private set; }

    public long Answers { get; private set; }

    public bool Behind { get; private set; }

    public string? Error { get; private set; }

    public long Bytes { get; private set; }

    /// <summary>(part, answer timestamp) of every blocked request, for the fan-out figures.</summary>
    public List<((long Msn, int Part) Part, long At)> Arrivals { get; } = [];

    public List<double> PartMilliseconds { get; } = [];

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1000)), cancellationToken).ConfigureAwait(false);
            var text = await GetAsync(await MediaUriAsync(cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            while (!cancellationToken.IsCancellationRequested && text is not null)
            {
                var (msn, part, _, ended) = Next(text);
                if (ended)
                {
                    return;
                }

                var blocking = new Uri(_media!, $"{_media!.AbsolutePath}{Separator(_media)}_HLS_msn={msn.ToString(CultureInfo.InvariantCulture)}&_HLS_part={part.ToString(CultureInfo.InvariantCulture)}");
                text = await GetAsync(blocking, cancellationToken).ConfigureAwait(false);
                var at = Stopwatch.GetTimestamp();
                Answers++;
                Arrivals.Add(((msn, part), at));
                firstAnswers.AddOrUpdate((msn, part), at, (_, first) => Math.Min(first, at));
                if (text is null)
                {
                    return;
                }

                var (nextMsn, nextPart, newest, _) = Next(text);
                if (nextMsn > msn + 1 || (nextMsn == msn && nextPart - part > 4))
                {
                    Behind = true; // the answer lists parts far beyond the one asked for: this viewer fell behind
                }

                if (newest is not null)
                {
                    var started = Stopwatch.GetTimestamp();
                    await GetAsync(newest, cancellationToken, discard: true).ConfigureAwait(false);
                    PartMilliseconds.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    Parts++;
                }

            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or InvalidDataException)
        {
            Error = ex.Message;
        }
    }

    private static string Separator(Uri uri) => uri.Query.Length > 0 ? uri.Query + "&" : "?";

    // The next part to ask for, computed from the playlist (server-agnostic), and the newest part's URI.
    private (long Msn, int Part, Uri? Newest, bool Ended) Next(string text)
    {
        long sequence = 0;
        var segments = 0;
        var partsAfter = 0;
        Uri? newest = null;
        var ended = false;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.StartsWith("#EXT-X-MEDIA-SEQUENCE:", StringComparison.Ordinal))
            {
                sequence = long.Parse(line.AsSpan(22), CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("#EXT-X-PART:", StringComparison.Ordinal))
            {
                partsAfter++;
                var uri = line.IndexOf("URI=\"", StringComparison.Ordinal);
                if (uri >= 0)
                {
                    var end = line.IndexOf('"', uri + 5);
                    newest = new Uri(_media!, line[(uri + 5)..end]);
                }
            }
            else if (line.StartsWith("#EXT-X-SKIP:", StringComparison.Ordinal))
            {
                segments += int.Parse(line.AsSpan(line.IndexOf('=') + 1), CultureInfo.InvariantCulture);
            }
            else if (line == "#EXT-X-ENDLIST")
            {
                ended = true;
            }
            else if (line.Length > 0 && line[0] != '#')
            {
                segments++;
                partsAfter = 0;
            }
        }

        return (sequence + segments, partsAfter, newest, ended);
    }

    private async Task<Uri> MediaUriAsync(CancellationToken cancellationToken)
    {
        var client = new HlsPlaylistClient(http, playlistUri);
        while (await client.FetchAsync(cancellationToken).ConfigureAwait(false) is null)
        {
            await Task.Delay(500, cancellationToken).ConfigureAwait(false);
        }

        _media = client.MediaUri ?? playlistUri;
        Bytes += client.Bytes;
        return _media;
    }

    private async Task<string?> GetAsync(Uri uri, CancellationToken cancellationToken, bool discard = false)
    {
        using var response = await http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidDataException($"{uri.PathAndQuery}: {(int)response.StatusCode}");
        }

        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        Bytes += bytes.Length;
        return discard ? null : System.Text.Encoding.UTF8.GetString(bytes);
    }
}
