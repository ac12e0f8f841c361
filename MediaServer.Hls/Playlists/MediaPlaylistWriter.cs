using System.Buffers;
using System.Buffers.Text;
using System.Text;
using MediaServer.Hls.Storage;

namespace MediaServer.Hls.Playlists;

/// <summary>What a live media playlist shows at one moment.</summary>
/// <param name="TargetDuration">EXT-X-TARGETDURATION (seconds; constant for the life of the playlist).</param>
/// <param name="MediaSequence">Sequence number of the first listed segment (EXT-X-MEDIA-SEQUENCE).</param>
/// <param name="DiscontinuitySequence">EXT-X-DISCONTINUITY tags that left the window (EXT-X-DISCONTINUITY-SEQUENCE).</param>
/// <param name="SessionId">Prefix of the segment names: <c>{session}-{sequence}.ts</c>.</param>
/// <param name="Segments">Complete segments, oldest first.</param>
/// <param name="Ended">Whether to close the playlist with EXT-X-ENDLIST.</param>
/// <param name="SegmentQuery">Query string (without '?') appended to every segment URI, e.g. a playback token.</param>
/// <param name="LowLatency">The LL-HLS parts and controls; null for a classic playlist.</param>
/// <param name="SegmentExtension"><c>.ts</c>, or <c>.m4s</c> for fMP4 (whose segments carry an
/// <see cref="HlsSegment.InitVersion"/>, written as EXT-X-MAP where it changes; VERSION 7).</param>
/// <param name="OpenInitVersion">The initialization segment of the segment being built (its parts), fMP4 only.</param>
public readonly record struct MediaPlaylist(
    int TargetDuration,
    long MediaSequence,
    long DiscontinuitySequence,
    string SessionId,
    IReadOnlyList<HlsSegment> Segments,
    bool Ended,
    string? SegmentQuery = null,
    LowLatencyPlaylist? LowLatency = null,
    string SegmentExtension = SegmentNames.Extension,
    int OpenInitVersion = 0);

/// <summary>What a low-latency playlist (RFC 8216bis §4.4.4.9, §4.4.3.7-8, §4.4.5.2-3) adds to a live one.</summary>
/// <param name="PartTargetMs">EXT-X-PART-INF:PART-TARGET, fixed for the stream.</param>
/// <param name="PartsFrom">Index in <see cref="MediaPlaylist.Segments"/> of the first segment whose parts are listed
/// (parts are listed only near the live edge, §6.2.2: at least the last 3 target durations).</param>
/// <param name="OpenParts">The completed parts of the segment being built, listed after the last segment.</param>
/// <param name="Hint">The next part (EXT-X-PRELOAD-HINT) while the stream is live: segment number and part index.</param>
/// <param name="SkippedSegments">Segments replaced by EXT-X-SKIP at the start (a delta update, <c>_HLS_skip=YES</c>).</param>
/// <param name="Report">The other rendition of the stream (EXT-X-RENDITION-REPORT, §4.4.5.4), while live.</param>
public sealed record LowLatencyPlaylist(
    long PartTargetMs,
    int PartsFrom,
    IReadOnlyList<SegmentPart> OpenParts,
    (long Segment, int Part)? Hint,
    int SkippedSegments = 0,
    RenditionReport? Report = null);

/// <summary>EXT-X-RENDITION-REPORT (RFC 8216bis §4.4.5.4): where another rendition's playlist is and its last part.</summary>
/// <param name="Uri">Its media playlist, relative (the playlist's query, e.g. a token, is appended).</param>
/// <param name="LastMsn">The media sequence number of its last part (or of its last segment, without parts).</param>
/// <param name="LastPart">The index of its last part within <paramref name="LastMsn"/>; -1 when it has none.</param>
public readonly record struct RenditionReport(string Uri, long LastMsn, int LastPart);

/// <summary>
/// Renders a live media playlist (RFC 8216 §4.3) as UTF-8 bytes, invariant formatting:
/// <code>
/// #EXTM3U
/// #EXT-X-VERSION:3                       (TS segments + decimal EXTINF need 3, nothing more)
/// #EXT-X-TARGETDURATION:2
/// #EXT-X-MEDIA-SEQUENCE:41
/// #EXT-X-DISCONTINUITY-SEQUENCE:1         (only when non-zero)
/// #EXT-X-PROGRAM-DATE-TIME:2026-01-01T12:00:00.000Z   (first segment and after each discontinuity)
/// #EXTINF:2.000,
/// 5f3a9c0d12ab-41.ts
/// #EXT-X-DISCONTINUITY
/// #EXT-X-PROGRAM-DATE-TIME:...
/// #EXTINF:1.968,
/// 5f3a9c0d12ab-42.ts?token=...
/// #EXT-X-ENDLIST                          (only once the stream ended)
/// </code>
/// No EXT-X-PLAYLIST-TYPE: a live playlist has none (§4.3.3.5).
/// With <see cref="MediaPlaylist.LowLatency"/> (RFC 8216bis): VERSION 9 (delta updates need it), SERVER-CONTROL
/// (blocking reload; PART-HOLD-BACK = 3 × part target, HOLD-BACK = 3 × target, CAN-SKIP-UNTIL = 6 × target),
/// PART-INF, PROGRAM-DATE-TIME on every segment, EXT-X-PART lines before the segments near the live edge and for
/// the open segment (<c>{session}-{sequence}.{part}.ts</c>), EXT-X-PRELOAD-HINT for the next part while live,
/// and EXT-X-SKIP in place of the oldest segments in a delta update.
/// </summary>
public static class MediaPlaylistWriter
{
    /// <summary>Renders into a new array (once per playlist change, then served as-is).</summary>
    public static byte[] Render(in MediaPlaylist playlist)
    {
        var writer = new ArrayBufferWriter<byte>(256 + (playlist.Segments.Count * 96));
        Write(playlist, writer);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Renders into <paramref name="output"/>.</summary>
    public static void Write(in MediaPlaylist playlist, IBufferWriter<byte> output)
    {
        var ll = playlist.LowLatency;
        var fmp4 = playlist.SegmentExtension != SegmentNames.Extension;
        if (ll is null)
        {
            WriteHeader(output, PlaylistType.Live, playlist.TargetDuration, playlist.MediaSequence, playlist.DiscontinuitySequence, fmp4 ? 7 : 3);
        }
        else
        {
            WriteLowLatencyHeader(output, playlist, ll);
        }

        var segments = playlist.Segments;
        var map = 0;
        for (var i = ll?.SkippedSegments ?? 0; i < segments.Count; i++)
        {
            var segment = segments[i];
            var first = i == (ll?.SkippedSegments ?? 0);
            WriteSegmentPrefix(output, segment.Discontinuity, ll is not null || first || segment.Discontinuity ? segment.ProgramDateTime : null);
            WriteMap(output, playlist.SessionId, segment.InitVersion, ref map);
            if (ll is not null && i >= ll.PartsFrom)
            {
                foreach (var part in segment.Parts)
                {
                    WritePart(output, playlist, part);
                }
            }

            WriteInf(output, segment.DurationMs);
            SegmentNames.WriteLive(output, playlist.SessionId, segment.SequenceNumber, playlist.SegmentExtension);
            WriteQuery(output, playlist.SegmentQuery);
            Append(output, "\n"u8);
        }

        if (ll is not null)
        {
            if (ll.OpenParts.Count > 0)
            {
                WriteMap(output, playlist.SessionId, playlist.OpenInitVersion, ref map);
            }

            foreach (var part in ll.OpenParts)
            {
                WritePart(output, playlist, part);
            }

            if (!playlist.Ended && ll.Hint is { } hint)
            {
                Append(output, "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\""u8);
                SegmentNames.WriteLivePart(output, playlist.SessionId, hint.Segment, hint.Part, playlist.SegmentExtension);
                WriteQuery(output, playlist.SegmentQuery);
                Append(output, "\"\n"u8);
            }

            if (!playlist.Ended && ll.Report is { } report)
            {
                WriteRenditionReport(output, report, playlist.SegmentQuery);
            }
        }

        if (playlist.Ended)
        {
            WriteEnd(output);
        }
    }

    private static void WriteLowLatencyHeader(IBufferWriter<byte> output, in MediaPlaylist playlist, LowLatencyPlaylist ll)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(playlist.TargetDuration, 1);
        Append(output, "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:"u8);
        AppendInteger(output, playlist.TargetDuration);
        Append(output, "\n#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL="u8);
        AppendSeconds(output, 6000L * playlist.TargetDuration);
        Append(output, ",PART-HOLD-BACK="u8);
        AppendSeconds(output, 3 * ll.PartTargetMs);
        Append(output, ",HOLD-BACK="u8);
        AppendSeconds(output, 3000L * playlist.TargetDuration);
        Append(output, "\n#EXT-X-PART-INF:PART-TARGET="u8);
        AppendSeconds(output, ll.PartTargetMs);
        Append(output, "\n#EXT-X-MEDIA-SEQUENCE:"u8);
        AppendInteger(output, playlist.MediaSequence);
        Append(output, "\n"u8);
        if (playlist.DiscontinuitySequence != 0)
        {
            Append(output, "#EXT-X-DISCONTINUITY-SEQUENCE:"u8);
            AppendInteger(output, playlist.DiscontinuitySequence);
            Append(output, "\n"u8);
        }

        if (ll.SkippedSegments > 0)
        {
            Append(output, "#EXT-X-SKIP:SKIPPED-SEGMENTS="u8);
            AppendInteger(output, ll.SkippedSegments);
            Append(output, "\n"u8);
        }
    }

    private static void WritePart(IBufferWriter<byte> output, in MediaPlaylist playlist, in SegmentPart part)
    {
        Append(output, "#EXT-X-PART:DURATION="u8);
        AppendSeconds(output, part.DurationMs);
        Append(output, ",URI=\""u8);
        SegmentNames.WriteLivePart(output, playlist.SessionId, part.SegmentSequenceNumber, part.PartIndex, playlist.SegmentExtension);
        WriteQuery(output, playlist.SegmentQuery);
        Append(output, part.Independent ? "\",INDEPENDENT=YES\n"u8 : "\"\n"u8);
    }

    // EXT-X-MAP where the initialization segment changes (fMP4; 0 = none): the first segment, and after a new
    // codec configuration (which also brings EXT-X-DISCONTINUITY).
    private static void WriteMap(IBufferWriter<byte> output, string sessionId, int version, ref int current)
    {
        if (version == 0 || version == current)
        {
            return;
        }

        current = version;
        Append(output, "#EXT-X-MAP:URI=\""u8);
        AppendAscii(output, SegmentNames.Init(sessionId, version));
        Append(output, "\"\n"u8);
    }

    private static void WriteRenditionReport(IBufferWriter<byte> output, in RenditionReport report, string? query)
    {
        Append(output, "#EXT-X-RENDITION-REPORT:URI=\""u8);
        AppendAscii(output, report.Uri);
        if (!string.IsNullOrEmpty(query))
        {
            Append(output, report.Uri.Contains('?', StringComparison.Ordinal) ? "&"u8 : "?"u8);
            AppendAscii(output, query);
        }

        Append(output, "\",LAST-MSN="u8);
        AppendInteger(output, report.LastMsn);
        if (report.LastPart >= 0)
        {
            Append(output, ",LAST-PART="u8);
            AppendInteger(output, report.LastPart);
        }

        Append(output, "\n"u8);
    }

    private static void WriteQuery(IBufferWriter<byte> output, string? query)
    {
        if (!string.IsNullOrEmpty(query))
        {
            Append(output, "?"u8);
            AppendAscii(output, query);
        }
    }

    /// <summary>
    /// Writes the tags before a segment URI: EXT-X-DISCONTINUITY when <paramref name="discontinuity"/>,
    /// EXT-X-PROGRAM-DATE-TIME when <paramref name="programDateTime"/> is given, and EXTINF with the
    /// duration in seconds to three decimals. The caller writes the URI line.
    /// </summary>
    public static void WriteEntryTags(IBufferWriter<byte> output, long durationMs, bool discontinuity, DateTimeOffset? programDateTime)
    {
        WriteSegmentPrefix(output, discontinuity, programDateTime);
        WriteInf(output, durationMs);
    }

    private static void WriteSegmentPrefix(IBufferWriter<byte> output, bool discontinuity, DateTimeOffset? programDateTime)
    {
        if (discontinuity)
        {
            Append(output, "#EXT-X-DISCONTINUITY\n"u8);
        }

        if (programDateTime is { } time)
        {
            Append(output, "#EXT-X-PROGRAM-DATE-TIME:"u8);
            AppendDateTime(output, time);
            Append(output, "\n"u8);
        }
    }

    private static void WriteInf(IBufferWriter<byte> output, long durationMs)
    {
        Append(output, "#EXTINF:"u8);
        AppendSeconds(output, durationMs);
        Append(output, ",\n"u8);
    }

    // Milliseconds as seconds with three decimals.
    private static void AppendSeconds(IBufferWriter<byte> output, long milliseconds)
    {
        AppendInteger(output, milliseconds / 1000);
        Append(output, "."u8);
        AppendInteger(output, milliseconds % 1000, 3);
    }

    /// <summary>
    /// Writes the header of a media playlist: version, EXT-X-PLAYLIST-TYPE (EVENT and VOD only; a live
    /// playlist has none, §4.3.3.5), target duration, media sequence, and the discontinuity sequence when
    /// non-zero.
    /// </summary>
    public static void WriteHeader(IBufferWriter<byte> output, PlaylistType type, int targetDuration, long mediaSequence, long discontinuitySequence = 0, int version = 3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(targetDuration, 1);
        Append(output, "#EXTM3U\n#EXT-X-VERSION:"u8);
        AppendInteger(output, version);
        Append(output, "\n"u8);
        if (type != PlaylistType.Live)
        {
            Append(output, type == PlaylistType.Event ? "#EXT-X-PLAYLIST-TYPE:EVENT\n"u8 : "#EXT-X-PLAYLIST-TYPE:VOD\n"u8);
        }

        Append(output, "#EXT-X-TARGETDURATION:"u8);
        AppendInteger(output, targetDuration);
        Append(output, "\n#EXT-X-MEDIA-SEQUENCE:"u8);
        AppendInteger(output, mediaSequence);
        Append(output, "\n"u8);
        if (discontinuitySequence != 0)
        {
            Append(output, "#EXT-X-DISCONTINUITY-SEQUENCE:"u8);
            AppendInteger(output, discontinuitySequence);
            Append(output, "\n"u8);
        }
    }

    /// <summary>Writes EXT-X-ENDLIST: no segment will be added.</summary>
    public static void WriteEnd(IBufferWriter<byte> output) => Append(output, "#EXT-X-ENDLIST\n"u8);

    /// <summary>
    /// Closes an EVENT playlist that was left open (a recording a crash interrupted): it becomes VOD and ends
    /// with EXT-X-ENDLIST. A playlist that already ends is returned unchanged.
    /// </summary>
    public static string CloseEvent(string playlist)
    {
        if (playlist.Contains(MediaPlaylistReader.EndTag, StringComparison.Ordinal))
        {
            return playlist;
        }

        var closed = playlist.Replace("#EXT-X-PLAYLIST-TYPE:EVENT", "#EXT-X-PLAYLIST-TYPE:VOD", StringComparison.Ordinal);
        return closed + (closed.EndsWith('\n') ? "" : "\n") + MediaPlaylistReader.EndTag + "\n";
    }

    private static void Append(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(output.GetSpan(bytes.Length));
        output.Advance(bytes.Length);
    }

    private static void AppendAscii(IBufferWriter<byte> output, string text)
    {
        var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        output.Advance(Encoding.UTF8.GetBytes(text, span));
    }

    private static void AppendInteger(IBufferWriter<byte> output, long value, int minDigits = 0)
    {
        var span = output.GetSpan(24);
        var format = minDigits > 0 ? new StandardFormat('D', (byte)minDigits) : default;
        if (!Utf8Formatter.TryFormat(value, span, out var written, format))
        {
            throw new InvalidOperationException("Integer did not fit its buffer.");
        }

        output.Advance(written);
    }

    // ISO 8601 with milliseconds, UTC: 2026-01-01T12:00:00.000Z (RFC 8216 §4.3.2.6).
    private static void AppendDateTime(IBufferWriter<byte> output, DateTimeOffset time)
    {
        var span = output.GetSpan(32);
        if (!time.UtcDateTime.TryFormat(span, out var written, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException("Date did not fit its buffer.");
        }

        output.Advance(written);
    }
}
