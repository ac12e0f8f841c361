using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace MediaServer.Host.Data;

/// <summary>Where a restreamed copy of a livestream goes.</summary>
public sealed record RestreamTarget(string Url, string StreamKey);

/// <summary>Who may play a livestream: anyone with the playback id, or only with a valid access token.</summary>
public enum PlaybackPolicy
{
    Public = 0,
    Signed = 1,
}

public sealed record LivestreamRecord(
    string Id,
    string ApiKey,
    string Name,
    bool Record,
    string StreamKey,
    string PlaybackId,
    PlaybackPolicy PlaybackPolicy,
    bool Enabled,
    IReadOnlyList<RestreamTarget> Restream,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    long Version = 1,
    RecordingLimits? RecordingLimits = null,
    DateTimeOffset? DeletedAt = null);

/// <summary>
/// Livestreams, each owned by one API key. Lookups by playback id (every HLS request) are served from an
/// in-memory index kept in step with every write made through this store, and so is the answer "no such
/// livestream" (open-mode streams, probes): only this store writes livestreams, and playback ids are ours.
/// </summary>
public sealed class LivestreamStore(Database database, TimeProvider time)
{
    /// <summary>Misses remembered at most; past this they are all forgotten (random ids must not grow the index).</summary>
    public const int MaxCachedMisses = 10_000;

    private const string Columns = "id, api_key, name, record, stream_key, playback_id, playback_policy, enabled, restream_json, created_at, updated_at, version, "
        + "recording_max_duration_seconds, recording_max_bytes, recording_retention_days, deleted_at";

    /// <summary>Rows that are livestreams (not the tombstone of one deleted with its recordings kept).</summary>
    private const string Live = "deleted_at IS NULL";
    private readonly ConcurrentDictionary<string, LivestreamRecord?> _byPlaybackId = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _deleted = new(StringComparer.Ordinal);
    private readonly Lock _cacheLock = new(); // a lookup's answer is cached only if no write came in between
    private long _writes; // writes through this store, under _cacheLock
    private int _cachedMisses;

    /// <summary>
    /// Raised after a livestream was created, updated or deleted through this store, with its playback id
    /// (the restreamer re-reads the livestream and adjusts its workers).
    /// </summary>
    public event Action<string>? Changed;

    public async Task<LivestreamRecord> CreateAsync(string apiKey, string name, bool record, PlaybackPolicy policy, IReadOnlyList<RestreamTarget> restream, CancellationToken cancellationToken = default) =>
        await CreateAsync(apiKey, name, record, policy, restream, RecordingLimits.None, cancellationToken);

    public async Task<LivestreamRecord> CreateAsync(string apiKey, string name, bool record, PlaybackPolicy policy, IReadOnlyList<RestreamTarget> restream, RecordingLimits limits, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var livestream = new LivestreamRecord(
            Id: NewId(),
            ApiKey: apiKey,
            Name: name,
            Record: record,
            StreamKey: Guid.NewGuid().ToString("D"),
            PlaybackId: NewId(),
            PlaybackPolicy: policy,
            Enabled: true,
            Restream: restream,
            CreatedAt: now,
            UpdatedAt: now,
            RecordingLimits: limits);
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"INSERT INTO livestreams ({Columns}) VALUES ($id, $k, $n, $r, $sk, $pid, $pp, $e, $rs, $c, $u, $ver, $rmd, $rmb, $rrd, $del)";
        Bind(command, livestream);
        await command.ExecuteNonQueryAsync(cancellationToken);
        Cache(livestream.PlaybackId, livestream);
        Changed?.Invoke(livestream.PlaybackId);
        return livestream;
    }

    public async Task<LivestreamRecord?> GetAsync(string apiKey, string id, CancellationToken cancellationToken = default)
    {
        var found = await QuerySingleAsync($"id = $v AND {Live}", id, cancellationToken);
        return found is not null && found.ApiKey == apiKey ? found : null;
    }

    /// <summary>
    /// As <see cref="GetAsync"/>, and also a livestream deleted with <c>?keepRecordings=true</c> (its
    /// <see cref="LivestreamRecord.DeletedAt"/> set): the recordings API still reaches its recordings.
    /// </summary>
    public async Task<LivestreamRecord?> GetWithRecordingsAsync(string apiKey, string id, CancellationToken cancellationToken = default)
    {
        var found = await QuerySingleAsync("id = $v", id, cancellationToken);
        return found is not null && found.ApiKey == apiKey ? found : null;
    }

    public Task<LivestreamRecord?> FindByStreamKeyAsync(string streamKey, CancellationToken cancellationToken = default) =>
        QuerySingleAsync($"stream_key = $v AND {Live}", streamKey, cancellationToken);

    /// <summary>Livestreams (deleted ones with kept recordings included) whose recordings have a retention, any owner.</summary>
    public async Task<IReadOnlyList<LivestreamRecord>> ListWithRetentionAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM livestreams WHERE recording_retention_days IS NOT NULL";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var items = new List<LivestreamRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            items.Add(Read(reader));
        }

        return items;
    }

    public async ValueTask<LivestreamRecord?> FindByPlaybackIdAsync(string playbackId, CancellationToken cancellationToken = default)
    {
        if (_byPlaybackId.TryGetValue(playbackId, out var cached))
        {
            return cached;
        }

        var writes = Interlocked.Read(ref _writes);
        var found = await QuerySingleAsync($"playback_id = $v AND {Live}", playbackId, cancellationToken);
        var newMiss = false;
        lock (_cacheLock)
        {
            if (_writes != writes)
            {
                return found; // a write came in while we read: it may have changed or deleted this row
            }

            if (found is not null)
            {
                _byPlaybackId[playbackId] = found;
            }
            else
            {
                newMiss = _byPlaybackId.TryAdd(playbackId, null);
            }
        }

        if (newMiss && Interlocked.Increment(ref _cachedMisses) > MaxCachedMisses)
        {
            ForgetMisses();
        }

        return found;
    }

    public async Task<(IReadOnlyList<LivestreamRecord> Items, int Total)> ListAsync(string apiKey, int page, int perPage, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        int total;
        await using (var count = connection.CreateCommand())
        {
            count.CommandText = $"SELECT COUNT(*) FROM livestreams WHERE api_key = $k AND {Live}";
            count.Parameters.AddWithValue("$k", apiKey);
            total = Convert.ToInt32(await count.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
        }

        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM livestreams WHERE api_key = $k AND {Live} ORDER BY created_at DESC, id LIMIT $limit OFFSET $offset";
        command.Parameters.AddWithValue("$k", apiKey);
        command.Parameters.AddWithValue("$limit", perPage);
        command.Parameters.AddWithValue("$offset", (long)(page - 1) * perPage);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var items = new List<LivestreamRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            items.Add(Read(reader));
        }

        return (items, total);
    }

    /// <summary>
    /// Writes <paramref name="livestream"/> if the stored row still has its <see cref="LivestreamRecord.Version"/>
    /// (compare-and-swap), as the next version. Null when another write came first (or the row is gone): the caller
    /// lost the race and re-reads, so a PATCH racing a stream-key reset cannot write the old key back.
    /// </summary>
    public async Task<LivestreamRecord?> TryUpdateAsync(LivestreamRecord livestream, CancellationToken cancellationToken = default)
    {
        var updated = livestream with { UpdatedAt = time.GetUtcNow(), Version = livestream.Version + 1 };
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            UPDATE livestreams SET name = $n, record = $r, stream_key = $sk, playback_id = $pid, playback_policy = $pp,
              enabled = $e, restream_json = $rs, updated_at = $u, version = $ver,
              recording_max_duration_seconds = $rmd, recording_max_bytes = $rmb, recording_retention_days = $rrd
            WHERE id = $id AND api_key = $k AND version = $expected AND deleted_at IS NULL
            """;
        Bind(command, updated);
        command.Parameters.AddWithValue("$expected", livestream.Version);
        if (await command.ExecuteNonQueryAsync(cancellationToken) != 1)
        {
            return null;
        }

        Cache(updated.PlaybackId, updated);
        Changed?.Invoke(updated.PlaybackId);
        return updated;
    }

    /// <summary>As <see cref="TryUpdateAsync"/>, for callers that hold the latest version; a lost race throws.</summary>
    public async Task<LivestreamRecord> UpdateAsync(LivestreamRecord livestream, CancellationToken cancellationToken = default) =>
        await TryUpdateAsync(livestream, cancellationToken)
        ?? throw new InvalidOperationException($"Livestream {livestream.Id} changed since version {livestream.Version} was read.");

    /// <summary>
    /// Deletes a livestream. With <paramref name="keepRecordings"/> the row stays as a tombstone (deleted_at set, a
    /// new random stream key, disabled) that only <see cref="GetWithRecordingsAsync"/> finds, until
    /// <see cref="PurgeAsync"/> once its last recording is gone.
    /// </summary>
    public async Task<bool> DeleteAsync(LivestreamRecord livestream, bool keepRecordings = false, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        if (keepRecordings)
        {
            command.CommandText = """
                UPDATE livestreams SET deleted_at = $d, stream_key = $sk, enabled = 0, restream_json = '[]', version = version + 1
                WHERE id = $id AND api_key = $k AND deleted_at IS NULL
                """;
            command.Parameters.AddWithValue("$d", ApiKeyStore.Format(time.GetUtcNow()));
            command.Parameters.AddWithValue("$sk", "deleted-" + NewId());
        }
        else
        {
            command.CommandText = "DELETE FROM livestreams WHERE id = $id AND api_key = $k";
        }

        command.Parameters.AddWithValue("$id", livestream.Id);
        command.Parameters.AddWithValue("$k", livestream.ApiKey);
        var deleted = await command.ExecuteNonQueryAsync(cancellationToken) == 1;
        if (_deleted.Count >= MaxCachedMisses)
        {
            _deleted.Clear(); // only needed while the ended stream's segments stay in memory (minutes)
        }

        _deleted[livestream.PlaybackId] = 0;
        Cache(livestream.PlaybackId, null);
        Changed?.Invoke(livestream.PlaybackId);
        return deleted;
    }

    /// <summary>Removes the tombstone of a livestream deleted with its recordings kept (they are all gone now).</summary>
    public async Task PurgeAsync(LivestreamRecord tombstone, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM livestreams WHERE id = $id AND api_key = $k AND deleted_at IS NOT NULL";
        command.Parameters.AddWithValue("$id", tombstone.Id);
        command.Parameters.AddWithValue("$k", tombstone.ApiKey);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Whether this playback id belonged to a livestream deleted through this store since it started (the last
    /// <see cref="MaxCachedMisses"/> of them). Its ended live stream stays in memory for a while; having no livestream
    /// any more must not make it public as if it were an open-mode stream.
    /// </summary>
    public bool WasDeleted(string playbackId) => _deleted.ContainsKey(playbackId);

    // After a write: the new record (null: deleted, forgotten so the next lookup reads the file), and one more write counted.
    private void Cache(string playbackId, LivestreamRecord? record)
    {
        lock (_cacheLock)
        {
            _writes++;
            if (record is null)
            {
                _byPlaybackId.TryRemove(playbackId, out _);
            }
            else
            {
                _byPlaybackId[playbackId] = record;
            }
        }
    }

    private void ForgetMisses()
    {
        foreach (var (id, record) in _byPlaybackId)
        {
            if (record is null && _byPlaybackId.TryRemove(new KeyValuePair<string, LivestreamRecord?>(id, null)))
            {
                Interlocked.Decrement(ref _cachedMisses);
            }
        }
    }

    /// <summary>128 random bits as 32 lowercase hex characters: unguessable, URL- and file-name-safe.</summary>
    public static string NewId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    private async Task<LivestreamRecord?> QuerySingleAsync(string where, string value, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM livestreams WHERE {where}";
        command.Parameters.AddWithValue("$v", value);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    private static void Bind(SqliteCommand command, LivestreamRecord l)
    {
        command.Parameters.AddWithValue("$id", l.Id);
        command.Parameters.AddWithValue("$k", l.ApiKey);
        command.Parameters.AddWithValue("$n", l.Name);
        command.Parameters.AddWithValue("$r", l.Record ? 1 : 0);
        command.Parameters.AddWithValue("$sk", l.StreamKey);
        command.Parameters.AddWithValue("$pid", l.PlaybackId);
        command.Parameters.AddWithValue("$pp", l.PlaybackPolicy == PlaybackPolicy.Signed ? "signed" : "public");
        command.Parameters.AddWithValue("$e", l.Enabled ? 1 : 0);
        command.Parameters.AddWithValue("$rs", JsonSerializer.Serialize(l.Restream, DataJson.Default.IReadOnlyListRestreamTarget));
        command.Parameters.AddWithValue("$c", ApiKeyStore.Format(l.CreatedAt));
        command.Parameters.AddWithValue("$u", ApiKeyStore.Format(l.UpdatedAt));
        command.Parameters.AddWithValue("$ver", l.Version);
        var limits = l.RecordingLimits ?? RecordingLimits.None;
        command.Parameters.AddWithValue("$rmd", (object?)limits.MaxDurationSeconds ?? DBNull.Value);
        command.Parameters.AddWithValue("$rmb", (object?)limits.MaxBytes ?? DBNull.Value);
        command.Parameters.AddWithValue("$rrd", (object?)limits.RetentionDays ?? DBNull.Value);
        command.Parameters.AddWithValue("$del", l.DeletedAt is { } d ? ApiKeyStore.Format(d) : DBNull.Value);
    }

    private static LivestreamRecord Read(SqliteDataReader r) => new(
        r.GetString(0),
        r.GetString(1),
        r.GetString(2),
        r.GetInt64(3) != 0,
        r.GetString(4),
        r.GetString(5),
        r.GetString(6) == "signed" ? PlaybackPolicy.Signed : PlaybackPolicy.Public,
        r.GetInt64(7) != 0,
        JsonSerializer.Deserialize(r.GetString(8), DataJson.Default.IReadOnlyListRestreamTarget) ?? [],
        ApiKeyStore.Parse(r.GetString(9)),
        ApiKeyStore.Parse(r.GetString(10)),
        r.GetInt64(11),
        new RecordingLimits(
            r.IsDBNull(12) ? null : r.GetInt64(12),
            r.IsDBNull(13) ? null : r.GetInt64(13),
            r.IsDBNull(14) ? null : r.GetInt32(14)),
        r.IsDBNull(15) ? null : ApiKeyStore.Parse(r.GetString(15)));
}

[System.Text.Json.Serialization.JsonSerializable(typeof(IReadOnlyList<RestreamTarget>))]
[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
internal sealed partial class DataJson : System.Text.Json.Serialization.JsonSerializerContext;

/// <summary>
/// A livestream's limits on each recording session: length and size (a limit reached stops the recording, the live
/// stream goes on) and how many days finished sessions are kept. Null: no limit.
/// </summary>
public sealed record RecordingLimits(long? MaxDurationSeconds = null, long? MaxBytes = null, int? RetentionDays = null)
{
    public static RecordingLimits None { get; } = new();
}
