using System.Globalization;
using System.Text;

namespace MediaServer.Hls.Playlists;

/// <summary>The one variant of a live stream, as its multivariant playlist announces it.</summary>
/// <param name="Bandwidth">Peak segment bit rate, bits/s (BANDWIDTH, required).</param>
/// <param name="AverageBandwidth">Average segment bit rate, bits/s (AVERAGE-BANDWIDTH).</param>
/// <param name="Codecs">RFC 6381 codec strings of the tracks, comma-separated (CODECS), or null if unknown.</param>
/// <param name="Width">Picture width (RESOLUTION), 0 if unknown or audio-only.</param>
/// <param name="Height">Picture height (RESOLUTION), 0 if unknown or audio-only.</param>
/// <param name="Uri">The media playlist URI, relative to the multivariant playlist, query included.</param>
public readonly record struct VariantStream(long Bandwidth, long AverageBandwidth, string? Codecs, int Width, int Height, string Uri);

/// <summary>
/// Renders a multivariant playlist (RFC 8216 §4.3.4.2) with one variant:
/// <code>
/// #EXTM3U
/// #EXT-X-VERSION:3
/// #EXT-X-STREAM-INF:BANDWIDTH=3421000,AVERAGE-BANDWIDTH=3180000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720
/// stream.m3u8
/// </code>
/// Why a multivariant playlist for a single rendition: players size their buffers from BANDWIDTH. hls.js with
/// the product page's configuration (<c>maxBufferLength: 0</c>, <c>maxMaxBufferLength: 1</c>) computes a
/// buffer goal of zero for a level without a bit rate and never loads a fragment; with BANDWIDTH it buffers
/// up to one second and plays. CODECS lets players set up decoders before the first segment.
/// No EXT-X-INDEPENDENT-SEGMENTS: it would claim every segment of every media playlist starts decodable, and a
/// segment cut inside a GOP longer than the target (<see cref="Segmenting.SegmentCut.Split"/>) does not; a live
/// playlist cannot know that no such GOP will come, nor take the tag back once given (RFC 8216 §6.2.1).
/// Rendered once per new segment (not per request), so a plain string build is fine here.
/// </summary>
public static class MultivariantPlaylistWriter
{
    public static byte[] Render(in VariantStream variant)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(variant.Bandwidth, 1);
        var text = new StringBuilder(256);
        text.Append("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-STREAM-INF:BANDWIDTH=")
            .Append(variant.Bandwidth.ToString(CultureInfo.InvariantCulture));
        if (variant.AverageBandwidth > 0)
        {
            text.Append(",AVERAGE-BANDWIDTH=").Append(variant.AverageBandwidth.ToString(CultureInfo.InvariantCulture));
        }

        if (!string.IsNullOrEmpty(variant.Codecs))
        {
            text.Append(",CODECS=\"").Append(variant.Codecs).Append('"');
        }

        if (variant.Width > 0 && variant.Height > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $",RESOLUTION={variant.Width}x{variant.Height}");
        }

        text.Append('\n').Append(variant.Uri).Append('\n');
        return Encoding.UTF8.GetBytes(text.ToString());
    }
}
