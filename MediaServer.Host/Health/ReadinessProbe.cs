using MediaServer.Host.Configuration;
using MediaServer.Host.Data;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace MediaServer.Host.Health;

/// <summary>
/// <c>GET /readyz</c>: the listeners are bound (the host has started and is not stopping), the database answers a
/// query that reads its schema on a new connection, and the data folder takes a write (a probe file written through to the disk, then
/// deleted). One check at a time, its answer reused for a second, so the endpoint costs the same however often a
/// load balancer or a stranger asks. A failing check is logged once when it starts failing, not on every probe.
/// </summary>
public sealed class ReadinessProbe(
    Database database,
    IOptions<MediaServerOptions> options,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<ReadinessProbe> logger) : IDisposable
{
    private static readonly TimeSpan s_reuseFor = TimeSpan.FromSeconds(1);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly string _probePath = Path.Combine(Path.GetFullPath(options.Value.DataDirectory), ".readyz-probe");
    private readonly string _unpooled = new SqliteConnectionStringBuilder(database.ConnectionString) { Pooling = false, Mode = SqliteOpenMode.ReadWrite }.ToString();
    private Readiness? _last;
    private long _lastAt;
    private bool _wasReady = true;

    public async Task<Readiness> CheckAsync(CancellationToken cancellationToken)
    {
        if (_last is { } cached && time.GetElapsedTime(_lastAt) < s_reuseFor)
        {
            return cached;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_last is { } fresh && time.GetElapsedTime(_lastAt) < s_reuseFor)
            {
                return fresh;
            }

            var listeners = lifetime.ApplicationStarted.IsCancellationRequested && !lifetime.ApplicationStopping.IsCancellationRequested
                ? "ok"
                : lifetime.ApplicationStopping.IsCancellationRequested ? "stopping" : "starting";
            var result = new Readiness(listeners, await CheckDatabaseAsync(cancellationToken).ConfigureAwait(false), CheckDisk());
            if (result.Ready != _wasReady)
            {
                _wasReady = result.Ready;
                if (result.Ready)
                {
                    logger.LogInformation("Ready again");
                }
                else
                {
                    logger.LogWarning("Not ready: listeners {Listeners}, database {Database}, disk {Disk}", result.Listeners, result.Database, result.Disk);
                }
            }

            _last = result;
            _lastAt = time.GetTimestamp();
            return result;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    private async Task<string> CheckDatabaseAsync(CancellationToken cancellationToken)
    {
        try
        {
            // A connection of its own, outside the pool: a pooled one may answer from pages it cached before the file
            // on disk went bad; this one opens the file as the next request would.
            await using var connection = new SqliteConnection(_unpooled);
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT count(*) FROM sqlite_master";
            await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return "ok";
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return "failed: " + ex.GetType().Name;
        }
    }

    private string CheckDisk()
    {
        try
        {
            using (var probe = new FileStream(_probePath, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.WriteThrough))
            {
                probe.WriteByte(1);
            }

            File.Delete(_probePath);
            return "ok";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "failed: " + ex.GetType().Name;
        }
    }
}

/// <summary>The answer of <c>/readyz</c>: each check <c>ok</c> or what it found.</summary>
public sealed record Readiness(string Listeners, string Database, string Disk)
{
    public bool Ready => Listeners == "ok" && Database == "ok" && Disk == "ok";
}
