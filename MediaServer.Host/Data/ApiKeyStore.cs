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
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
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
