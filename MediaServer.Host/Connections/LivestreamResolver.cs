using System.Net;
using System.Threading.RateLimiting;
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
internal sealed class LivestreamResolver : IStreamResolver, IDisposable
{
    /// <summary>Failed publish attempts allowed per client address per minute: enough for typos, far too few to guess keys.</summary>
    public const int FailedPublishAttemptsPerMinute = 10;

    private readonly LivestreamStore _livestreams;
    private readonly ApiKeyStore _keys;
    private readonly AccessTokenValidator _tokens;
    private readonly ILogger _logger;
    private readonly PartitionedRateLimiter<string> _failures;
    private readonly OpenStreamResolver _open = new();

    public LivestreamResolver(LivestreamStore livestreams, ApiKeyStore keys, AccessTokenValidator tokens, ILogger<LivestreamResolver> logger, TimeProvider time)
    {
        _livestreams = livestreams;
        _keys = keys;
        _tokens = tokens;
        _logger = logger;
        _failures = PartitionedRateLimiter.Create<string, string>(address => RateLimitPartition.GetFixedWindowLimiter(address, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = FailedPublishAttemptsPerMinute,
            Window = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
        }));
        _ = time;
    }

    public async ValueTask<StreamResolution> ResolvePublishAsync(StreamRequest request, CancellationToken cancellationToken)
    {
        if (await IsOpenModeAsync(cancellationToken))
        {
            return await _open.ResolvePublishAsync(request, cancellationToken);
        }

        var address = HostOf(request.RemoteAddress);
        if (_failures.GetStatistics(address)?.CurrentAvailablePermits == 0)
        {
            return StreamResolution.Refuse(StreamRefusal.Unauthorized, "Too many failed publish attempts from this address; try again in a minute.");
        }

        var refusal = await CheckPublishAsync(request, cancellationToken);
        if (refusal is { } refused)
        {
            using var lease = _failures.AttemptAcquire(address);
            return refused;
        }

        var livestream = await _livestreams.FindByStreamKeyAsync(request.Name, cancellationToken);
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

        var livestream = await _livestreams.FindByPlaybackIdAsync(request.Name, cancellationToken);
        if (livestream is null)
        {
            return StreamResolution.Refuse(StreamRefusal.BadName, "No such stream.");
        }

        if (livestream.PlaybackPolicy == PlaybackPolicy.Signed)
        {
            var token = QueryValue(request.Query, "token");
            var validation = await _tokens.ValidateAsync(token, cancellationToken);
            if (!validation.IsValid || validation.ApiKey != livestream.ApiKey)
            {
                return StreamResolution.Refuse(StreamRefusal.Unauthorized, "This stream needs a valid access token (?token=...).");
            }
        }

        return StreamResolution.Accept(livestream.PlaybackId);
    }

    public void Dispose() => _failures.Dispose();

    private async Task<StreamResolution?> CheckPublishAsync(StreamRequest request, CancellationToken cancellationToken)
    {
        if (request.App != OpenStreamResolver.LiveApp)
        {
            return StreamResolution.Refuse(StreamRefusal.BadName, $"Unknown application '{request.App}'; publish to rtmp://host/live/<stream key>.");
        }

        var livestream = await _livestreams.FindByStreamKeyAsync(request.Name, cancellationToken);
        if (livestream is null)
        {
            return StreamResolution.Refuse(StreamRefusal.BadName, "Unknown stream key.");
        }

        if (!livestream.Enabled)
        {
            return StreamResolution.Refuse(StreamRefusal.Unauthorized, "This livestream is disabled.");
        }

        var owner = await _keys.FindCachedAsync(livestream.ApiKey, cancellationToken);
        if (owner is null || owner.IsRevoked)
        {
            return StreamResolution.Refuse(StreamRefusal.Unauthorized, "The API key that owns this livestream was revoked.");
        }

        return null;
    }

    private bool _warnedOpen;

    private async ValueTask<bool> IsOpenModeAsync(CancellationToken cancellationToken)
    {
        var open = (await _keys.ListAsync(cancellationToken)).Count == 0;
        if (open && !_warnedOpen)
        {
            _warnedOpen = true;
            _logger.LogWarning("No API key exists yet: publishing is open to any stream key under /live. Create one with `apikey create` to require stored stream keys.");
        }

        return open;
    }

    private static string HostOf(string? remote)
    {
        if (remote is null)
        {
            return "";
        }

        return IPEndPoint.TryParse(remote, out var endpoint) ? endpoint.Address.ToString() : remote;
    }

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
