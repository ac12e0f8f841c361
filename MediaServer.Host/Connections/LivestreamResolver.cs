using System.Net;
using MediaServer.Core.Streams;
using MediaServer.Host.Auth;
using MediaServer.Host.Data;

namespace MediaServer.Host.Connections;

/// <summary>
/// Stream identity backed by stored livestreams: publishing needs the stream key of an enabled livestream
/// and goes live under its playback id; playing needs a playback id (and a token for signed livestreams).
/// While no API key exists at all, the server is in open mode: any key under <c>live</c> publishes and is
/// its own stream id, so a fresh install works for a first test (a warning says so at start-up).
/// </summary>
internal sealed class LivestreamResolver(
    LivestreamStore livestreams,
    ApiKeyStore keys,
    AccessTokenValidator tokens,
    WrongKeyThrottle wrongKeys,
    ILogger<LivestreamResolver> logger,
    TimeProvider time) : IStreamResolver
{
    private readonly OpenStreamResolver _open = new();
    private int _warnedOpen;

    public async ValueTask<StreamResolution> ResolvePublishAsync(StreamRequest request, CancellationToken cancellationToken)
    {
        if (await IsOpenModeAsync(cancellationToken))
        {
            return await _open.ResolvePublishAsync(request, cancellationToken);
        }

        var (refusal, livestream) = await CheckPublishAsync(request, cancellationToken);
        if (refusal is { } refused)
        {
            // Counted and its delay decided in one step; only unknown keys wait, so a correct key never does (one of a
            // disabled livestream or a revoked API key is refused at once: it is no guess).
            var delay = livestream is null ? wrongKeys.RecordFailure(AddressOf(request.RemoteAddress)) : TimeSpan.Zero;
            logger.LogInformation("Publish from {Remote} refused (key {KeyHash}): {Reason}; answered after {DelayMs} ms",
                request.RemoteAddress, StreamKeyHash.Of(request.Name), refused.Message, (long)delay.TotalMilliseconds);
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, time, cancellationToken);
            }

            return refused;
        }

        return StreamResolution.Accept(livestream!.PlaybackId);
    }

    public async ValueTask<StreamResolution> ResolvePlayAsync(StreamRequest request, CancellationToken cancellationToken)
    {
        if (await IsOpenModeAsync(cancellationToken))
        {
            return await _open.ResolvePlayAsync(request, cancellationToken);
        }

        if (request.App != OpenStreamResolver.LiveApp || !OpenStreamResolver.IsValidStreamId(request.Name))
        {
            return StreamResolution.Refuse(StreamRefusal.BadName, "No such stream.");
        }

        var livestream = await livestreams.FindByPlaybackIdAsync(request.Name, cancellationToken);
        if (livestream is null)
        {
            return StreamResolution.Refuse(StreamRefusal.BadName, "No such stream.");
        }

        if (livestream.PlaybackPolicy == PlaybackPolicy.Signed)
        {
            // RTMP has no headers: the token comes in the URL, so it must be a playback token for this playback id.
            var token = QueryValue(request.Query, "token");
            var validation = await tokens.ValidatePlaybackAsync(token, CredentialSource.Url, cancellationToken);
            if (!validation.IsValid || !LivestreamPlaybackAuthorizer.Opens(validation, livestream))
            {
                return StreamResolution.Refuse(StreamRefusal.Unauthorized, "This stream needs a playback token for it (?token=...).");
            }
        }

        return StreamResolution.Accept(livestream.PlaybackId);
    }

    // The refusal, if any, and the livestream the key names (null: no such key, a wrong guess).
    private async Task<(StreamResolution? Refusal, LivestreamRecord? Livestream)> CheckPublishAsync(StreamRequest request, CancellationToken cancellationToken)
    {
        if (request.App != OpenStreamResolver.LiveApp)
        {
            return (StreamResolution.Refuse(StreamRefusal.BadName, $"Unknown application '{StreamKeyHash.AppForLog(request.App)}'; publish to rtmp://host/live/<stream key>."), null);
        }

        var livestream = await livestreams.FindByStreamKeyAsync(request.Name, cancellationToken);
        if (livestream is null)
        {
            return (StreamResolution.Refuse(StreamRefusal.BadName, "Unknown stream key."), null);
        }

        if (!livestream.Enabled)
        {
            return (StreamResolution.Refuse(StreamRefusal.Unauthorized, "This livestream is disabled."), livestream);
        }

        var owner = await keys.FindCachedAsync(livestream.ApiKey, cancellationToken);
        if (owner is null || owner.IsRevoked)
        {
            return (StreamResolution.Refuse(StreamRefusal.Unauthorized, "The API key that owns this livestream was revoked."), livestream);
        }

        return (null, livestream);
    }

    // Open while no API key exists at all: a cached EXISTS (ApiKeyStore.AnyKeyExistsAsync), not a read of every key.
    private async ValueTask<bool> IsOpenModeAsync(CancellationToken cancellationToken)
    {
        var open = !await keys.AnyKeyExistsAsync(cancellationToken);
        if (open && Interlocked.Exchange(ref _warnedOpen, 1) == 0)
        {
            logger.LogWarning("No API key exists yet: publishing is open to any stream key under /live. Create one with `apikey create` to require stored stream keys.");
        }

        return open;
    }

    private static IPAddress? AddressOf(string? remote) =>
        remote is not null && IPEndPoint.TryParse(remote, out var endpoint) ? endpoint.Address : null;

    internal static string? QueryValue(string? query, string name)
    {
        if (string.IsNullOrEmpty(query))
        {
            return null;
        }

        foreach (var part in query.Split('&'))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0 && part.AsSpan(0, eq).SequenceEqual(name))
            {
                return Uri.UnescapeDataString(part[(eq + 1)..]);
            }
        }

        return null;
    }
}
