using System.Text.Json;
using System.Text.Json.Serialization;
using MediaServer.Hls.Playlists;
using MediaServer.Host.Configuration;
using Microsoft.Extensions.Options;

namespace MediaServer.Host.Recording;

/// <summary>States of a recording session (<see cref="RecordingMetadata.Status"/>).</summary>
internal static class RecordingStatus
{
    public const string Recording = "recording";
    public const string Complete = "complete";
    public const string Failed = "failed";

    /// <summary>A recording limit stopped it (<see cref="RecordingMetadata.StopReason"/>); the playlist is finished and plays.</summary>
    public const string Stopped = "stopped";
}

/// <summary>Why a limit stopped a recording (<see cref="RecordingMetadata.StopReason"/>): the setting that did.</summary>
internal static class RecordingStopReason
{
    public const string MinFreeBytes = "minFreeBytes";
    public const string MaxDuration = "maxDurationSeconds";
    public const string MaxBytes = "maxBytes";
}

/// <summary>
/// What <c>recording.json</c> in a session folder says; rewritten (durably) on each change of state. The counts are
/// written when the session ends (null while recording, and in folders of older versions): listing a finished
/// session then reads this file only, not its playlist and every segment.
/// </summary>
internal sealed record RecordingMetadata(
    string PlaybackId,
    string SessionId,
    DateTimeOffset StartedAt,
    DateTimeOffset? EndedAt,
    string Status,
    string? Error = null,
    string? StopReason = null,
    int? Segments = null,
    long? DurationMs = null,
    long? Bytes = null);

/// <summary>A recording session as the API lists it.</summary>
internal sealed record RecordingInfo(RecordingMetadata Metadata, int Segments, long DurationMs, long Bytes);

[JsonSerializable(typeof(RecordingMetadata))]
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
internal sealed partial class RecordingJson : JsonSerializerContext;

/// <summary>
/// The recordings on disk: <c>{DataDirectory}/recordings/{playbackId}/{sessionId}/</c> holding
/// <c>index.m3u8</c>, <c>recording.json</c> and the segment files. Lists, finds and deletes sessions, and at
/// start-up finalizes sessions a crash left open.
/// </summary>
internal sealed class RecordingStore(IOptions<MediaServerOptions> options)
{
    /// <summary>Longest playback or session id accepted in a path: ours are 12–32 characters.</summary>
    private const int MaxIdLength = 64;

    public string Root { get; } = Path.GetFullPath(Path.Combine(options.Value.DataDirectory, "recordings"));

    /// <summary>Ids that may name a folder: letters, digits, '-' and '_' only, so no path can be formed.</summary>
    public static bool IsValidId(string? id) =>
        !string.IsNullOrEmpty(id) && id.Length <= MaxIdLength && id.All(static c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    public string SessionDirectory(string playbackId, string sessionId) => Path.Combine(Root, playbackId, sessionId);

    /// <summary>The sessions of a livestream, oldest first.</summary>
    public IReadOnlyList<RecordingInfo> List(string playbackId)
    {
        var folder = Path.Combine(Root, playbackId);
        if (!IsValidId(playbackId) || !Directory.Exists(folder))
        {
            return [];
        }

        var sessions = new List<RecordingInfo>();
        foreach (var directory in Directory.EnumerateDirectories(folder))
        {
            if (ReadMetadata(directory) is { } metadata)
            {
                if (metadata is { Segments: { } segments, DurationMs: { } durationMs, Bytes: { } bytes })
                {
                    sessions.Add(new RecordingInfo(metadata, segments, durationMs, bytes));
                }
                else
                {
                    var counted = ReadPlaylist(directory);
                    sessions.Add(new RecordingInfo(metadata, counted.Segments, counted.DurationMs, counted.Bytes));
                }
            }
        }

        sessions.Sort(static (a, b) => a.Metadata.StartedAt.CompareTo(b.Metadata.StartedAt));
        return sessions;
    }

    /// <summary>Deletes a session folder; false if there is none.</summary>
    public bool Delete(string playbackId, string sessionId)
    {
        var directory = SessionDirectory(playbackId, sessionId);
        if (!IsValidId(playbackId) || !IsValidId(sessionId) || !Directory.Exists(directory))
        {
            return false;
        }

        Directory.Delete(directory, recursive: true);
        var parent = Path.Combine(Root, playbackId);
        if (!Directory.EnumerateFileSystemEntries(parent).Any())
        {
            Directory.Delete(parent);
        }

        return true;
    }

    /// <summary>Deletes every session of a livestream (its folder); false if it had none.</summary>
    public bool DeleteAll(string playbackId)
    {
        var folder = Path.Combine(Root, playbackId);
        if (!IsValidId(playbackId) || !Directory.Exists(folder))
        {
            return false;
        }

        Directory.Delete(folder, recursive: true);
        return true;
    }

    /// <summary>
    /// Finalizes sessions left in the <c>recording</c> state by a crash or power loss: the playlist (valid,
    /// listing every segment that was complete) becomes VOD with EXT-X-ENDLIST, temporary files go, and
    /// the session is marked complete. Returns the sessions finalized.
    /// </summary>
    public IReadOnlyList<string> RecoverInterrupted()
    {
        var recovered = new List<string>();
        if (!Directory.Exists(Root))
        {
            return recovered;
        }

        RecordingFiles.RestrictDirectory(Root); // made 0755 by an older version: nothing below is for other users

        foreach (var directory in Directory.EnumerateDirectories(Root).SelectMany(Directory.EnumerateDirectories))
        {
            if (ReadMetadata(directory) is not { Status: RecordingStatus.Recording } metadata)
            {
                continue;
            }

            foreach (var temp in Directory.EnumerateFiles(directory).Where(RecordingFiles.IsTemporary))
            {
                File.Delete(temp);
            }

            var playlist = Path.Combine(directory, RecordingWriter.PlaylistName);
            var endedAt = File.Exists(playlist) ? new DateTimeOffset(File.GetLastWriteTimeUtc(playlist)) : metadata.StartedAt;
            if (File.Exists(playlist))
            {
                // Appends are whole entries, but a power loss can cut the last one short: it goes.
                var text = File.ReadAllText(playlist);
                var closed = MediaPlaylistWriter.CloseEvent(RecordingWriter.CompleteEntries(text));
                if (closed != text)
                {
                    RecordingFiles.WriteDurably(playlist, new System.Buffers.ReadOnlySequence<byte>(System.Text.Encoding.ASCII.GetBytes(closed)));
                }
            }

            var (segments, durationMs, bytes, _) = ReadPlaylist(directory);
            var finalized = metadata with
            {
                Status = RecordingStatus.Complete,
                EndedAt = endedAt,
                Error = "The server stopped without ending this recording; it was finalized at the next start.",
                Segments = segments,
                DurationMs = durationMs,
                Bytes = bytes,
            };
            RecordingFiles.WriteDurably(
                Path.Combine(directory, RecordingWriter.MetadataName),
                new System.Buffers.ReadOnlySequence<byte>(JsonSerializer.SerializeToUtf8Bytes(finalized, RecordingJson.Default.RecordingMetadata)));
            recovered.Add(directory);
        }

        return recovered;
    }

    internal static RecordingMetadata? ReadMetadata(string directory)
    {
        var path = Path.Combine(directory, RecordingWriter.MetadataName);
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize(File.ReadAllBytes(path), RecordingJson.Default.RecordingMetadata) : null;
        }
        catch (JsonException)
        {
            return null; // Not ours, or damaged: not listed.
        }
    }

    /// <summary>Counts a session playlist's segments, their duration and their bytes on disk.</summary>
    internal static (int Segments, long DurationMs, long Bytes, bool Ended) ReadPlaylist(string directory)
    {
        var path = Path.Combine(directory, RecordingWriter.PlaylistName);
        if (!File.Exists(path))
        {
            return (0, 0, 0, false);
        }

        ReadMediaPlaylist playlist;
        using (var reader = File.OpenText(path))
        {
            playlist = MediaPlaylistReader.Read(reader);
        }

        int segments = 0;
        long durationMs = 0, bytes = 0;
        foreach (var entry in playlist.Entries)
        {
            if (SegmentNames.IsRecording(entry.Uri))
            {
                segments++;
                durationMs += entry.DurationMs;
                var file = new FileInfo(Path.Combine(directory, entry.Uri));
                bytes += file.Exists ? file.Length : 0;
            }
        }

        var ended = playlist.Ended;
        return (segments, durationMs, bytes, ended);
    }
}
