using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace MediaServer.Hls.Serving;

/// <summary>What a request's <c>Range</c> header asks of a resource of known length (RFC 9110 §14).</summary>
public enum ByteRangeKind
{
    /// <summary>No usable range: serve the whole resource with 200.</summary>
    Whole,

    /// <summary>One satisfiable range: serve it with 206 and <c>Content-Range</c>.</summary>
    Partial,

    /// <summary>A single range that starts past the end: 416 with <c>Content-Range: bytes */length</c>.</summary>
    Unsatisfiable,
}

/// <summary>
/// Single-range requests on a resource with no validators (live segments): <c>bytes=a-b</c>, <c>bytes=a-</c> and
/// <c>bytes=-n</c>. Anything else (another unit, several ranges, a malformed header, or an <c>If-Range</c>, which
/// cannot match since we send no ETag or Last-Modified) is served whole, as RFC 9110 §14.2 allows.
/// </summary>
public static class ByteRange
{
    /// <summary>The whole resource.</summary>
    public static ByteRangeKind Whole(long length, out long start, out long count)
    {
        start = 0;
        count = length;
        return ByteRangeKind.Whole;
    }

    /// <summary>What a GET's <c>Range</c> asks of a resource of <paramref name="length"/> bytes.</summary>
    public static ByteRangeKind Resolve(HttpRequest request, long length, out long start, out long count)
    {
        Whole(length, out start, out count);
        var header = request.Headers.Range;
        if (header.Count != 1
            || request.Headers.ContainsKey(HeaderNames.IfRange)
            || !RangeHeaderValue.TryParse(header[0], out var range)
            || !string.Equals(range.Unit.Value, "bytes", StringComparison.OrdinalIgnoreCase)
            || range.Ranges.Count != 1)
        {
            return ByteRangeKind.Whole;
        }

        var item = range.Ranges.First();
        if (item.From is { } from)
        {
            if (from >= length)
            {
                return ByteRangeKind.Unsatisfiable;
            }

            var last = item.To is { } to ? Math.Min(to, length - 1) : length - 1;
            start = from;
            count = last - from + 1;
            return ByteRangeKind.Partial;
        }

        // bytes=-n: the last n bytes (the parser refuses "-" alone, so To is set here).
        var suffix = item.To.GetValueOrDefault();
        if (suffix <= 0 || length == 0)
        {
            return ByteRangeKind.Unsatisfiable;
        }

        count = Math.Min(suffix, length);
        start = length - count;
        return ByteRangeKind.Partial;
    }
}
