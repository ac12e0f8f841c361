using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace MediaServer.Hls.Serving;

/// <summary>
/// The LL-HLS delivery directives of a media playlist request (RFC 8216bis §6.2.5): <c>_HLS_msn=M</c> blocks until
/// segment M is in the playlist, <c>_HLS_part=N</c> with it until part N of M is (a part index past the last part of
/// M means part 0 of M+1), <c>_HLS_skip=YES</c> asks for a delta update.
/// </summary>
/// <param name="MediaSequence">_HLS_msn, or null.</param>
/// <param name="Part">_HLS_part, or null.</param>
/// <param name="Skip">_HLS_skip=YES (or v2).</param>
/// <param name="Error">Why the directives are invalid (400), or null.</param>
public readonly record struct LowLatencyRequest(long? MediaSequence, int? Part, bool Skip, string? Error)
{
    /// <summary>Reads the directives; a value that is not a non-negative integer, or _HLS_part without _HLS_msn, is an error.</summary>
    public static LowLatencyRequest Parse(IQueryCollection query)
    {
        long? msn = null;
        int? part = null;
        if (query.TryGetValue("_HLS_msn", out var msnValue))
        {
            if (!long.TryParse(msnValue.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var m))
            {
                return new(null, null, false, "_HLS_msn must be a media sequence number.");
            }

            msn = m;
        }

        if (query.TryGetValue("_HLS_part", out var partValue))
        {
            if (msn is null)
            {
                return new(null, null, false, "_HLS_part needs _HLS_msn.");
            }

            if (!int.TryParse(partValue.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var p))
            {
                return new(null, null, false, "_HLS_part must be a part index.");
            }

            part = p;
        }

        var skip = query.TryGetValue("_HLS_skip", out var skipValue) && (skipValue == "YES" || skipValue == "v2");
        return new(msn, part, skip, null);
    }
}
