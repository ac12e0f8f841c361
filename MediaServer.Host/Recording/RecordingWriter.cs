using System.Buffers;
using System.Text;
using System.Text.Json;
using MediaServer.Hls.Playlists;

namespace MediaServer.Host.Recording;

/// <summary>
/// Writes one recording session to its folder: a segment file per HLS segment and a playlist that is
/// <c>EXT-X-PLAYLIST-TYPE:EVENT</c> while live and <c>VOD</c> with <c>EXT-X-ENDLIST</c> once finished.
/// </summary>
/// <remarks>
/// <para>
/// Append-only, so a segment costs the same after a week as after a minute: the playlist is created once (header
/// and first entry, under a temporary name, renamed), and each later segment appends its entry (tens of bytes) in
/// one write and flushes the file (<c>fsync</c>). Only two things rewrite it whole, each once per session or less:
/// a segment longer than the target duration in the header (the target must cover every EXTINF, RFC 8216
/// §4.3.3.1; the live segmenter splits at the target, so this needs a stream without keyframes for that long), and
/// the end, when the type becomes VOD and EXT-X-ENDLIST follows the last entry.
/// </para>
/// <para>
/// Crash safety: a segment file is written under a temporary name, flushed and renamed before its entry is
/// appended, so the playlist only ever lists complete segments. At any instant — a <c>kill -9</c> included — the
/// playlist on disk is a valid EVENT playlist without EXT-X-ENDLIST; a power loss mid-append can at worst leave
/// the last entry cut short, which readers skip (<see cref="CompleteEntries"/>) and the next start removes
/// (<see cref="RecordingStore.RecoverInterrupted"/>).
/// </para>
/// Not thread-safe: one recorder task drives it.
/// </remarks>
internal sealed class RecordingWriter : IDisposable
{
    public const string PlaylistName = "index.m3u8";
    public const string MetadataName = "recording.json";

    private readonly ArrayBufferWriter<byte> _entry = new(256);
    private readonly string _playlistPath;
    private FileStream? _playlist; // open for appending once the playlist exists
    private long _headerLength;
    private int _target;
    private long _firstSequence = -1;
    private bool _pendingDiscontinuity;

    public RecordingWriter(string directory, RecordingMetadata metadata, int targetDuration)
    {
        Directory = directory;
        Metadata = metadata;
        _target = Math.Max(1, targetDuration);
        _playlistPath = Path.Combine(directory, PlaylistName);
        RecordingFiles.CreateDirectory(directory);
        WriteMetadata();
    }

    public string Directory { get; }

    public RecordingMetadata Metadata { get; private set; }

    public int Segments { get; private set; }

    public long DurationMs { get; private set; }

    public long Bytes { get; private set; }

    /// <summary>Bytes written to the playlist so far (appends and rewrites): what the flat-cost tests measure.</summary>
    public long PlaylistBytesWritten { get; private set; }

    /// <summary>Times the playlist was written whole (its creation, a target duration that grew, the end).</summary>
    public int PlaylistRewrites { get; private set; }

    /// <summary>Writes a segment durably, then appends the playlist entry that lists it.</summary>
    public void Append(long sequenceNumber, long durationMs, bool discontinuity, DateTimeOffset programDateTime, ReadOnlySequence<byte> bytes)
    {
        var name = SegmentNames.Recording(sequenceNumber);
        RecordingFiles.WriteDurably(Path.Combine(Directory, name), bytes);

        var first = _firstSequence < 0;
        if (first)
        {
            _firstSequence = sequenceNumber;
        }

        // The first entry has no discontinuity before it (nothing precedes it in this playlist), but a
        // date; a skipped segment (dropped by a slow disk) marks the next one as discontinuous.
        var breaks = !first && (discontinuity || _pendingDiscontinuity);
        _entry.ResetWrittenCount();
        MediaPlaylistWriter.WriteEntryTags(_entry, durationMs, breaks, first || breaks ? programDateTime : null);
        var uri = _entry.GetSpan(name.Length + 1);
        var written = Encoding.ASCII.GetBytes(name, uri);
        uri[written] = (byte)'\n';
        _entry.Advance(written + 1);
        _pendingDiscontinuity = false;

        Segments++;
        DurationMs += durationMs;
        Bytes += bytes.Length;
        var target = TargetDuration(_target, durationMs);
        if (_playlist is null || target != _target)
        {
            _target = target;
            Rewrite(PlaylistType.Event, _entry.WrittenSpan, ended: false);
        }
        else
        {
            _playlist.Write(_entry.WrittenSpan);
            _playlist.Flush(flushToDisk: true);
            PlaylistBytesWritten += _entry.WrittenCount;
        }
    }

    /// <summary>A segment could not be recorded: the next one follows a discontinuity.</summary>
    public void Skip() => _pendingDiscontinuity = true;

    /// <summary>
    /// Ends the session: the playlist becomes VOD with EXT-X-ENDLIST, and the metadata says
    /// <paramref name="status"/> (complete, or stopped by a limit with <paramref name="error"/> and <paramref name="stopReason"/>).
    /// </summary>
    public void Finish(DateTimeOffset endedAt, string status = RecordingStatus.Complete, string? error = null, string? stopReason = null)
    {
        Rewrite(PlaylistType.Vod, default, ended: true);
        ClosePlaylist();
        Metadata = Metadata with
        {
            Status = status,
            EndedAt = endedAt,
            Error = error,
            StopReason = stopReason,
            Segments = Segments,
            DurationMs = DurationMs,
            Bytes = Bytes,
        };
        WriteMetadata();
    }

    /// <summary>Records that the session failed (best effort: the disk may be what failed). The playlist stays a valid EVENT playlist.</summary>
    public void Fail(DateTimeOffset at, string error)
    {
        ClosePlaylist();
        Metadata = Metadata with { Status = RecordingStatus.Failed, EndedAt = at, Error = error, Segments = Segments, DurationMs = DurationMs, Bytes = Bytes };
        try
        {
            WriteMetadata();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Nothing more can be written; the status is known in memory until restart.
        }
    }

    public void Dispose() => ClosePlaylist();

    /// <summary>The target duration covers the longest segment (RFC 8216 §4.3.3.1).</summary>
    internal static int TargetDuration(int configured, long longestMs) => Math.Max(configured, (int)((longestMs + 500) / 1000));

    /// <summary>
    /// <paramref name="playlist"/> up to its last complete segment entry (its URI line and newline), unless it ended
    /// (EXT-X-ENDLIST): an entry being appended (or cut short by a power loss) is left out, so what is served or
    /// finalized is always valid.
    /// </summary>
    internal static string CompleteEntries(string playlist)
    {
        if (playlist.EndsWith(MediaPlaylistReader.EndTag + "\n", StringComparison.Ordinal))
        {
            return playlist;
        }

        // Back from the last newline, line by line, to a segment URI (or the header's last line: no entry yet).
        var newline = playlist.LastIndexOf('\n');
        while (newline >= 0)
        {
            var start = newline == 0 ? 0 : playlist.LastIndexOf('\n', newline - 1) + 1;
            var line = playlist.AsSpan(start, newline - start);
            if (SegmentNames.IsRecording(line) || line.StartsWith("#EXT-X-MEDIA-SEQUENCE:", StringComparison.Ordinal))
            {
                return newline + 1 == playlist.Length ? playlist : playlist[..(newline + 1)];
            }

            newline = start - 1;
        }

        return playlist;
    }

    // Writes the playlist whole, durably: the header (type, the current target), the entries already on disk, then
    // `extra` and EXT-X-ENDLIST when ended; then appends go to the new file.
    private void Rewrite(PlaylistType type, ReadOnlySpan<byte> extra, bool ended)
    {
        var header = new ArrayBufferWriter<byte>(160);
        MediaPlaylistWriter.WriteHeader(header, type, _target, Math.Max(0, _firstSequence));
        var tail = new ArrayBufferWriter<byte>(extra.Length + 16);
        tail.Write(extra);
        if (ended)
        {
            MediaPlaylistWriter.WriteEnd(tail);
        }

        ClosePlaylist();
        var oldHeaderLength = _headerLength;
        long copied = 0;
        RecordingFiles.WriteDurably(_playlistPath, (Header: header, Tail: tail, OldHeader: oldHeaderLength, Path: _playlistPath), (file, state) =>
        {
            file.Write(state.Header.WrittenSpan);
            if (state.OldHeader > 0 && File.Exists(state.Path))
            {
                using var old = new FileStream(state.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                old.Seek(state.OldHeader, SeekOrigin.Begin);
                old.CopyTo(file);
                copied = old.Length - state.OldHeader;
            }

            file.Write(state.Tail.WrittenSpan);
        });
        _headerLength = header.WrittenCount;
        PlaylistBytesWritten += header.WrittenCount + copied + tail.WrittenCount;
        PlaylistRewrites++;
        if (!ended)
        {
            _playlist = RecordingFiles.Open(_playlistPath, FileMode.Append, FileShare.Read);
        }
    }

    private void ClosePlaylist()
    {
        _playlist?.Dispose();
        _playlist = null;
    }

    private void WriteMetadata() =>
        RecordingFiles.WriteDurably(
            Path.Combine(Directory, MetadataName),
            new ReadOnlySequence<byte>(JsonSerializer.SerializeToUtf8Bytes(Metadata, RecordingJson.Default.RecordingMetadata)));
}
