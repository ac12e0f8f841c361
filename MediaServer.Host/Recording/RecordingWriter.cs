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
/// Crash safety: every file is written under a temporary name, flushed to disk (<c>fsync</c>) and renamed
/// over its final name, and the playlist is rewritten only after the segment it adds is durable. So at any
/// instant — a <c>kill -9</c> included — the playlist on disk is complete and valid and lists only complete
/// segments. The playlist's entries are kept rendered in memory and appended to, so each rewrite costs one
/// sequential write of the playlist (tens of bytes per segment), not a re-render.
/// Not thread-safe: one recorder task drives it.
/// </remarks>
internal sealed class RecordingWriter
{
    public const string PlaylistName = "index.m3u8";
    public const string MetadataName = "recording.json";
    private const string TempSuffix = ".tmp";

    private readonly ArrayBufferWriter<byte> _entries = new(4096);
    private readonly int _targetDuration;
    private long _firstSequence = -1;
    private long _longestMs;
    private bool _pendingDiscontinuity;

    public RecordingWriter(string directory, RecordingMetadata metadata, int targetDuration)
    {
        Directory = directory;
        Metadata = metadata;
        _targetDuration = Math.Max(1, targetDuration);
        System.IO.Directory.CreateDirectory(directory);
        WriteMetadata();
    }

    public string Directory { get; }

    public RecordingMetadata Metadata { get; private set; }

    public int Segments { get; private set; }

    public long DurationMs { get; private set; }

    public long Bytes { get; private set; }

    /// <summary>Writes a segment durably, then the playlist that lists it.</summary>
    public void Append(long sequenceNumber, long durationMs, bool discontinuity, DateTimeOffset programDateTime, ReadOnlySequence<byte> bytes)
    {
        WriteDurably(Path.Combine(Directory, SegmentNames.Recording(sequenceNumber)), bytes);

        var first = _firstSequence < 0;
        if (first)
        {
            _firstSequence = sequenceNumber;
        }

        // The first entry has no discontinuity before it (nothing precedes it in this playlist), but a
        // date; a skipped segment (dropped by a slow disk) marks the next one as discontinuous.
        var breaks = !first && (discontinuity || _pendingDiscontinuity);
        MediaPlaylistWriter.WriteEntryTags(_entries, durationMs, breaks, first || breaks ? programDateTime : null);
        var uri = Encoding.ASCII.GetBytes(SegmentNames.Recording(sequenceNumber) + "\n");
        _entries.Write(uri);
        _pendingDiscontinuity = false;

        Segments++;
        DurationMs += durationMs;
        Bytes += bytes.Length;
        _longestMs = Math.Max(_longestMs, durationMs);
        WritePlaylist(ended: false);
    }

    /// <summary>A segment could not be recorded: the next one follows a discontinuity.</summary>
    public void Skip() => _pendingDiscontinuity = true;

    /// <summary>Ends the session: the playlist becomes VOD with EXT-X-ENDLIST.</summary>
    public void Finish(DateTimeOffset endedAt)
    {
        WritePlaylist(ended: true);
        Metadata = Metadata with { Status = RecordingStatus.Complete, EndedAt = endedAt };
        WriteMetadata();
    }

    /// <summary>Records that the session failed (best effort: the disk may be what failed).</summary>
    public void Fail(DateTimeOffset at, string error)
    {
        Metadata = Metadata with { Status = RecordingStatus.Failed, EndedAt = at, Error = error };
        try
        {
            WriteMetadata();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Nothing more can be written; the status is known in memory until restart.
        }
    }

    /// <summary>The target duration covers the longest segment (RFC 8216 §4.3.3.1).</summary>
    internal static int TargetDuration(int configured, long longestMs) => Math.Max(configured, (int)((longestMs + 500) / 1000));

    /// <summary>Writes a file under a temporary name, flushes it to disk and renames it over <paramref name="path"/>.</summary>
    internal static void WriteDurably(string path, ReadOnlySequence<byte> bytes) =>
        WriteDurably(path, bytes, static (file, bytes) =>
        {
            foreach (var memory in bytes)
            {
                file.Write(memory.Span);
            }
        });

    /// <summary>
    /// Writes a file with <paramref name="write"/> under a temporary name, flushes it to disk, renames it over
    /// <paramref name="path"/> and flushes the folder, so the rename itself survives a power loss.
    /// </summary>
    internal static void WriteDurably<TState>(string path, TState state, Action<FileStream, TState> write)
    {
        var temp = path + TempSuffix;
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0))
        {
            write(file, state);
            file.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
        DirectorySync.Flush(Path.GetDirectoryName(path)!);
    }

    internal static bool IsTemporary(string path) => path.EndsWith(TempSuffix, StringComparison.Ordinal);

    private void WritePlaylist(bool ended) =>
        WriteDurably(Path.Combine(Directory, PlaylistName), (Writer: this, Ended: ended), static (file, state) =>
        {
            var writer = state.Writer;
            var header = new ArrayBufferWriter<byte>(160);
            MediaPlaylistWriter.WriteHeader(
                header,
                state.Ended ? PlaylistType.Vod : PlaylistType.Event,
                TargetDuration(writer._targetDuration, writer._longestMs),
                Math.Max(0, writer._firstSequence));
            file.Write(header.WrittenSpan);
            file.Write(writer._entries.WrittenSpan);
            if (state.Ended)
            {
                var end = new ArrayBufferWriter<byte>(16);
                MediaPlaylistWriter.WriteEnd(end);
                file.Write(end.WrittenSpan);
            }
        });

    private void WriteMetadata() =>
        WriteDurably(
            Path.Combine(Directory, MetadataName),
            new ReadOnlySequence<byte>(JsonSerializer.SerializeToUtf8Bytes(Metadata, RecordingJson.Default.RecordingMetadata)));
}
