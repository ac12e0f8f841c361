namespace MediaServer.Host.Recording;

/// <summary>
/// The latest recording session of each livestream, for <c>/recordings/{playbackId}/index.m3u8</c>: listing the
/// sessions reads every session's files, so it is done again only when the livestream's recordings folder changed
/// (a session was added or deleted), found with one stat of the folder. A folder changed in the last
/// <see cref="SettleTime"/> is listed again on each request: a new session's folder exists a moment before its
/// <c>recording.json</c>.
/// </summary>
internal sealed class LatestRecordingCache(RecordingStore store)
{
    // Bounded: playback ids come from requests (only ids of stored livestreams get here, but there may be many).
    private const int MaxEntries = 10_000;
    private static readonly TimeSpan SettleTime = TimeSpan.FromSeconds(2);

    private readonly Lock _lock = new();
    private readonly Dictionary<string, (DateTime FolderWrittenAt, string? SessionId)> _latest = new(StringComparer.Ordinal);

    /// <summary>The id of the newest session of <paramref name="playbackId"/> (a valid id), or null when it has none.</summary>
    public string? LatestSession(string playbackId)
    {
        var folder = Path.Combine(store.Root, playbackId);
        var writtenAt = Directory.GetLastWriteTimeUtc(folder); // 1601-01-01 when there is no folder
        var settled = DateTime.UtcNow - writtenAt >= SettleTime;
        lock (_lock)
        {
            if (settled && _latest.TryGetValue(playbackId, out var cached) && cached.FolderWrittenAt == writtenAt)
            {
                return cached.SessionId;
            }
        }

        var sessions = store.List(playbackId);
        var latest = sessions.Count > 0 ? sessions[^1].Metadata.SessionId : null;
        lock (_lock)
        {
            if (_latest.Count >= MaxEntries)
            {
                _latest.Clear();
            }

            _latest[playbackId] = (writtenAt, latest);
        }

        return latest;
    }
}
