using MediaServer.Host.Data;
using Microsoft.Extensions.Options;

namespace MediaServer.Host.Recording;

/// <summary>
/// Deletes finished recording sessions older than their livestream's <c>recordingLimits.retentionDays</c> (by when
/// they ended), at start-up and every <see cref="RecordingOptions.RetentionSweepInterval"/>. A session being
/// recorded is never touched; one line is logged per session deleted.
/// </summary>
internal sealed class RecordingRetention(
    LivestreamStore livestreams,
    RecordingStore store,
    RecordingManager recorder,
    TimeProvider time,
    IOptions<RecordingOptions> options,
    ILogger<RecordingRetention> logger) : BackgroundService
{
    /// <summary>Deletes the sessions past their retention now; returns how many.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var deleted = 0;
        foreach (var livestream in await livestreams.ListWithRetentionAsync(cancellationToken))
        {
            if (livestream.RecordingLimits?.RetentionDays is not { } days)
            {
                continue;
            }

            var remaining = 0;
            foreach (var session in store.List(livestream.PlaybackId))
            {
                var metadata = session.Metadata;
                if (metadata.EndedAt is { } ended && now - ended > TimeSpan.FromDays(days)
                    && !recorder.IsRecording(metadata.PlaybackId, metadata.SessionId)
                    && store.Delete(metadata.PlaybackId, metadata.SessionId))
                {
                    deleted++;
                    logger.LogInformation(
                        "Recording {SessionId} of {PlaybackId} deleted: it ended {Ended:O}, over its livestream's retentionDays ({Days}) ago",
                        metadata.SessionId, metadata.PlaybackId, ended, days);
                }
                else
                {
                    remaining++;
                }
            }

            if (remaining == 0 && livestream.DeletedAt is not null)
            {
                await livestreams.PurgeAsync(livestream, cancellationToken);
            }
        }

        return deleted;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RetentionSweepInterval, time);
        do
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException)
            {
                logger.LogError(ex, "Deleting recordings past their retention failed; trying again in {Interval}", options.Value.RetentionSweepInterval);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
