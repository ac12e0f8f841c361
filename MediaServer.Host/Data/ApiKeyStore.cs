using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Data.Sqlite;

namespace MediaServer.Host.Data;

public sealed record ApiKeyRecord(string ApiKey, string Secret, string Name, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt)
{
    public bool IsRevoked => RevokedAt is not null;
}

/// <summary>API key + secret pairs. Secrets must be kept readable: HS256 verification needs them.</summary>
public sealed class ApiKeyStore(Database database, TimeProvider time)
{
    /// <summary>
    /// How long <see cref="FindCachedAsync"/> answers from memory. Every signed HLS request validates its token,
    /// and 500 viewers make about 500 requests a second; this keeps them off SQLite. A key revoked through this
    /// store is refused at once; revoked from the CLI (another process) within this time.
    /// </summary>
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(5);

    /// <summary>Keys (and unknown keys, which forged tokens bring) remembered at most; then the cache starts over.</summary>
    public const int MaxCachedKeys = 10_000;

    private readonly ConcurrentDictionary<string, (ApiKeyRecord? Record, long At)> _cache = new(StringComparer.Ordinal);

    private long _generation; // bumped by every create and revoke through this store

    internal int CachedKeys => _cache.Count;

    public async Task<ApiKeyRecord> CreateAsync(string? name, CancellationToken cancellationToken = default)
    {
        var record = new ApiKeyRecord(
            Guid.NewGuid().ToString("D"),
            Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)),
            name ?? "",
            time.GetUtcNow(),
            null);
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO api_keys (api_key, secret, name, created_at) VALUES ($k, $s, $n, $c)";
        command.Parameters.AddWithValue("$k", record.ApiKey);
        command.Parameters.AddWithValue("$s", record.Secret);
        command.Parameters.AddWithValue("$n", record.Name);
        command.Parameters.AddWithValue("$c", Format(record.CreatedAt));
        await command.ExecuteNonQueryAsync(cancellationToken);
        Interlocked.Increment(ref _generation);
        _cache.TryRemove(record.ApiKey, out _);
        _anyKey = true;
        return record;
    }

    public async Task<ApiKeyRecord?> FindAsync(string apiKey, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT api_key, secret, name, created_at, revoked_at FROM api_keys WHERE api_key = $k";
        command.Parameters.AddWithValue("$k", apiKey);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    /// <summary>
    /// As <see cref="FindAsync"/>, answered from memory for up to <see cref="CacheFor"/>. Keys are GUIDs: anything else
    /// (a forged token's claim, up to the token size) is unknown without a lookup and is not remembered.
    /// </summary>
    public async Task<ApiKeyRecord?> FindCachedAsync(string apiKey, CancellationToken cancellationToken = default)
    {
        if (!Guid.TryParseExact(apiKey, "D", out _))
        {
            return null;
        }

        if (_cache.TryGetValue(apiKey, out var cached) && time.GetElapsedTime(cached.At) < CacheFor)
        {
            return cached.Record;
        }

        var generation = Volatile.Read(ref _generation);
        var at = time.GetTimestamp();
        var record = await FindAsync(apiKey, cancellationToken);
        if (_cache.Count >= MaxCachedKeys)
        {
            if (record is null)
            {
                return null; // full of misses (forged keys, most likely): do not push real keys out for another
            }

            _cache.Clear();
        }

        // A key created or revoked here while we read is not cached from the read that may predate it.
        if (Volatile.Read(ref _generation) == generation)
        {
            _cache[apiKey] = (record, at);
        }

        return record;
    }

    /// <summary>
    /// How long "no API key exists" is believed (<see cref="AnyKeyExistsAsync"/>). Keys are created from the CLI, in
    /// another process, so the server must see the first one soon; once one exists, it exists for good (keys are
    /// revoked, never deleted).
    /// </summary>
    public static readonly TimeSpan NoKeyRecheck = TimeSpan.FromSeconds(1);

    private volatile bool _anyKey;
    private long _noKeyAt = long.MinValue;

    /// <summary>
    /// Whether any API key (revoked or not) exists: <c>SELECT EXISTS</c>, read at most once per <see cref="NoKeyRecheck"/>
    /// while none does and never again once one does. Decides open mode on every publish, so it reads no rows.
    /// </summary>
    public async ValueTask<bool> AnyKeyExistsAsync(CancellationToken cancellationToken = default)
    {
        if (_anyKey)
        {
            return true;
        }

        var checkedAt = Interlocked.Read(ref _noKeyAt);
        if (checkedAt != long.MinValue && time.GetElapsedTime(checkedAt) < NoKeyRecheck)
        {
            return false;
        }

        var at = time.GetTimestamp();
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT EXISTS (SELECT 1 FROM api_keys)";
        var exists = Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) != 0;
        if (exists)
        {
            _anyKey = true;
        }
        else
        {
            Interlocked.Exchange(ref _noKeyAt, at);
        }

        return exists;
    }

    public async Task<IReadOnlyList<ApiKeyRecord>> ListAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT api_key, secret, name, created_at, revoked_at FROM api_keys ORDER BY created_at";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<ApiKeyRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(Read(reader));
        }

        return list;
    }

    /// <summary>Revokes a key; false when there is no such (unrevoked) key.</summary>
    public async Task<bool> RevokeAsync(string apiKey, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE api_keys SET revoked_at = $r WHERE api_key = $k AND revoked_at IS NULL";
        command.Parameters.AddWithValue("$k", apiKey);
        command.Parameters.AddWithValue("$r", Format(time.GetUtcNow()));
        var revoked = await command.ExecuteNonQueryAsync(cancellationToken) == 1;
        Interlocked.Increment(ref _generation);
        _cache.TryRemove(apiKey, out _);
        return revoked;
    }

    internal static string Format(DateTimeOffset value) => value.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    internal static DateTimeOffset Parse(string value) => DateTimeOffset.Parse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    private static ApiKeyRecord Read(SqliteDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        reader.GetString(2),
        Parse(reader.GetString(3)),
        reader.IsDBNull(4) ? null : Parse(reader.GetString(4)));
}
