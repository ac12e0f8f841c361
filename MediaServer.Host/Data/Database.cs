using Microsoft.Data.Sqlite;

namespace MediaServer.Host.Data;

/// <summary>
/// The embedded SQLite database in the data folder: opened per operation (Microsoft.Data.Sqlite pools the
/// connections), schema migrated at start-up by <see cref="MigrateAsync"/>, file readable by its owner only.
/// </summary>
public sealed class Database
{
    public const string FileName = "mediaserver.db";

    /// <summary>Schema migrations, applied in order; <c>PRAGMA user_version</c> records how many ran.</summary>
    private static readonly string[] s_migrations =
    [
        // 1: API keys and livestreams.
        """
        CREATE TABLE api_keys (
            api_key     TEXT PRIMARY KEY,
            secret      TEXT NOT NULL,
            name        TEXT NOT NULL DEFAULT '',
            created_at  TEXT NOT NULL,
            revoked_at  TEXT NULL
        );
        CREATE TABLE livestreams (
            id               TEXT PRIMARY KEY,
            api_key          TEXT NOT NULL REFERENCES api_keys(api_key),
            name             TEXT NOT NULL,
            record           INTEGER NOT NULL,
            stream_key       TEXT NOT NULL UNIQUE,
            playback_id      TEXT NOT NULL UNIQUE,
            playback_policy  TEXT NOT NULL DEFAULT 'public',
            enabled          INTEGER NOT NULL DEFAULT 1,
            restream_json    TEXT NOT NULL DEFAULT '[]',
            created_at       TEXT NOT NULL,
            updated_at       TEXT NOT NULL
        );
        CREATE INDEX livestreams_by_key ON livestreams(api_key, created_at);
        """,

        // 2: a version per livestream for compare-and-swap updates (LivestreamStore.TryUpdateAsync); rows of version 1
        // so far get 1.
        """
        ALTER TABLE livestreams ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
        """,

        // 3: per-livestream recording limits (null: none), and deleted_at for a livestream deleted with
        // ?keepRecordings=true: the row stays (its stream key replaced, never found by publish or playback) so
        // its recordings can still be listed and deleted through the API.
        """
        ALTER TABLE livestreams ADD COLUMN recording_max_duration_seconds INTEGER NULL;
        ALTER TABLE livestreams ADD COLUMN recording_max_bytes INTEGER NULL;
        ALTER TABLE livestreams ADD COLUMN recording_retention_days INTEGER NULL;
        ALTER TABLE livestreams ADD COLUMN deleted_at TEXT NULL;
        """,
    ];

    public Database(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        Path = System.IO.Path.GetFullPath(System.IO.Path.Combine(dataDirectory, FileName));
        ConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            ForeignKeys = true,
        }.ToString();
    }

    public string Path { get; }

    public string ConnectionString { get; }

    public async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken = default)
    {
        // SQLite's "async" calls run synchronously, and a write waits for the disk. Socket I/O runs inline on the
        // socket engine's threads (NetworkOptions.InlineIo), so leave them before touching the file: a slow disk
        // must not stall every connection that engine serves.
        await Task.Yield();
        var connection = new SqliteConnection(ConnectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    /// <summary>Creates the file owner-only and applies pending migrations, each in its own transaction.</summary>
    public async Task MigrateAsync(CancellationToken cancellationToken = default)
    {
        if (!File.Exists(Path))
        {
            await using (File.Create(Path))
            {
            }
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        await using var connection = await OpenAsync(cancellationToken);
        await using (var wal = connection.CreateCommand())
        {
            wal.CommandText = "PRAGMA journal_mode=WAL;";
            await wal.ExecuteNonQueryAsync(cancellationToken);
        }

        long version;
        await using (var read = connection.CreateCommand())
        {
            read.CommandText = "PRAGMA user_version;";
            version = (long)(await read.ExecuteScalarAsync(cancellationToken))!;
        }

        if (version > s_migrations.Length)
        {
            throw new InvalidOperationException($"The database {Path} has schema version {version}, newer than this server knows ({s_migrations.Length}).");
        }

        for (var i = (int)version; i < s_migrations.Length; i++)
        {
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = s_migrations[i] + $"\nPRAGMA user_version = {i + 1};";
            await command.ExecuteNonQueryAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
    }
}
