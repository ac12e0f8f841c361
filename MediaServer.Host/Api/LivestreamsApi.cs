using System.Globalization;
using System.Text.Json;
using MediaServer.Core.Streams;
using MediaServer.Host.Auth;
using MediaServer.Host.Configuration;
using MediaServer.Host.Data;
using MediaServer.Host.Egress;
using MediaServer.Host.Recording;
using MediaServer.Host.Restream;
using MediaServer.Rtmp.Client;
using Microsoft.Extensions.Options;

namespace MediaServer.Host.Api;

/// <summary>The livestreams API of the product page: <c>/v1/livestreams</c>, authorised by access tokens.</summary>
internal static class LivestreamsApi
{
    private const int MaxNameLength = 256;
    private const int MaxRestreamTargets = 16;
    private const int MaxPerPage = 100;
    private const long MaxBodyBytes = 64 * 1024;

    // Recording limits: a year per session at most (a session is one run of a stream), a century of retention.
    private const long MaxRecordingSeconds = 365L * 24 * 3600;
    private const int MaxRetentionDays = 36_500;

    public static IEndpointRouteBuilder MapLivestreamsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/v1/livestreams")
            .AddEndpointFilter<AccessTokenFilter>()
            .WithTags("Livestreams");

        group.MapPost("/", CreateAsync).WithSummary("Create a livestream");
        group.MapGet("/", ListAsync).WithSummary("List livestreams, newest first");
        group.MapGet("/{id}", GetAsync).WithSummary("Get a livestream");
        group.MapPatch("/{id}", UpdateAsync).WithSummary("Update name, record, restream, playbackPolicy or recordingLimits");
        group.MapDelete("/{id}", DeleteAsync).WithSummary("Delete a livestream and its recordings (?keepRecordings=true keeps them; a live one is disconnected)");
        group.MapPost("/{id}/reset-stream-key", ResetStreamKeyAsync).WithSummary("Issue a new stream key");
        group.MapPost("/{id}/playback-tokens", CreatePlaybackTokenAsync).WithSummary("Mint a playback token for this livestream's playback id (for ?token= and viewers)");
        group.MapPost("/{id}/disable", (string id, HttpContext context, LivestreamStore store, StreamHub hub, IOptions<MediaServerOptions> options, CancellationToken ct)
            => SetEnabledAsync(id, false, context, store, hub, options, ct)).WithSummary("Disable publishing (a live stream is disconnected)");
        group.MapPost("/{id}/enable", (string id, HttpContext context, LivestreamStore store, StreamHub hub, IOptions<MediaServerOptions> options, CancellationToken ct)
            => SetEnabledAsync(id, true, context, store, hub, options, ct)).WithSummary("Enable publishing");
        return endpoints;
    }

    private static async Task<IResult> CreateAsync(HttpContext context, LivestreamStore store, StreamHub hub, IOptions<MediaServerOptions> options, CancellationToken ct)
    {
        var (request, error) = await ReadBodyAsync(context, ct);
        if (error is not null)
        {
            return error;
        }

        var invalid = Validate(request!, context.RequestServices.GetRequiredService<OutboundAddressPolicy>(), out var restream, out var policy);
        RecordingLimits? limits = null;
        invalid ??= ValidateLimits(request!.RecordingLimits, out limits);
        if (invalid is not null)
        {
            return invalid;
        }

        var created = await store.CreateAsync(AccessTokenFilter.ApiKeyOf(context), request!.Name ?? "", request.Record ?? false, policy ?? PlaybackPolicy.Public, restream ?? [], limits ?? RecordingLimits.None, ct);
        return Results.Json(ToResponse(created, hub, options.Value, context.RequestServices.GetService<RestreamManager>()), ApiJson.Default.LivestreamResponse, statusCode: StatusCodes.Status200OK);
    }

    private static async Task<IResult> ListAsync(HttpContext context, LivestreamStore store, StreamHub hub, IOptions<MediaServerOptions> options, CancellationToken ct)
    {
        if (!TryQueryInt(context, "page", 1, out var page) || page < 1)
        {
            return FieldError("page", "page must be a whole number ≥ 1");
        }

        if (!TryQueryInt(context, "perPage", 20, out var perPage) || perPage is < 1 or > MaxPerPage)
        {
            return FieldError("perPage", $"perPage must be a whole number from 1 to {MaxPerPage}");
        }

        var (items, total) = await store.ListAsync(AccessTokenFilter.ApiKeyOf(context), page, perPage, ct);
        var data = new List<LivestreamResponse>(items.Count);
        foreach (var item in items)
        {
            data.Add(ToResponse(item, hub, options.Value, context.RequestServices.GetService<RestreamManager>()));
        }

        var lastPage = Math.Max(1, (total + perPage - 1) / perPage);
        return Results.Json(new LivestreamPage(new PageInfo(page, perPage, lastPage, total), data), ApiJson.Default.LivestreamPage);
    }

    private static async Task<IResult> GetAsync(string id, HttpContext context, LivestreamStore store, StreamHub hub, IOptions<MediaServerOptions> options, CancellationToken ct)
    {
        var found = await store.GetAsync(AccessTokenFilter.ApiKeyOf(context), id, ct);
        return found is null ? NotFound(id) : Answer(context, found, hub, options.Value);
    }

    private static async Task<IResult> UpdateAsync(string id, HttpContext context, LivestreamStore store, StreamHub hub, IOptions<MediaServerOptions> options, CancellationToken ct)
    {
        var found = await store.GetAsync(AccessTokenFilter.ApiKeyOf(context), id, ct);
        if (found is null)
        {
            return NotFound(id);
        }

        var (request, error) = await ReadBodyAsync(context, ct);
        if (error is not null)
        {
            return error;
        }

        var invalid = Validate(request!, context.RequestServices.GetRequiredService<OutboundAddressPolicy>(), out var restream, out var policy);
        RecordingLimits? limits = null;
        invalid ??= ValidateLimits(request!.RecordingLimits, out limits);
        if (invalid is not null)
        {
            return invalid;
        }

        var updated = await TryUpdateAsync(context, store, found, found with
        {
            Name = request!.Name ?? found.Name,
            Record = request.Record ?? found.Record,
            Restream = restream ?? found.Restream,
            PlaybackPolicy = policy ?? found.PlaybackPolicy,
            RecordingLimits = limits ?? found.RecordingLimits,
        }, ct);
        return updated is null ? Conflict(id) : Answer(context, updated, hub, options.Value);
    }

    // Deletes the livestream and its recordings; ?keepRecordings=true keeps them, listed and deleted through
    // /v1/livestreams/{id}/recordings as before (the livestream itself is gone: 404 everywhere else).
    private static async Task<IResult> DeleteAsync(string id, HttpContext context, LivestreamStore store, StreamHub hub, RecordingManager recordings, CancellationToken ct)
    {
        var found = await store.GetAsync(AccessTokenFilter.ApiKeyOf(context), id, ct);
        if (found is null)
        {
            return NotFound(id);
        }

        var keep = context.Request.Query["keepRecordings"].ToString();
        if (keep is not ("" or "true" or "false"))
        {
            return FieldError("keepRecordings", "keepRecordings must be true or false");
        }

        await store.DeleteAsync(found, keepRecordings: keep == "true", ct);
        hub.Disconnect(found.PlaybackId);
        if (keep != "true")
        {
            await recordings.DeleteRecordingsAsync(found.PlaybackId, ct);
        }

        return Results.NoContent();
    }

    private static async Task<IResult> ResetStreamKeyAsync(string id, HttpContext context, LivestreamStore store, StreamHub hub, IOptions<MediaServerOptions> options, CancellationToken ct)
    {
        var found = await store.GetAsync(AccessTokenFilter.ApiKeyOf(context), id, ct);
        if (found is null)
        {
            return NotFound(id);
        }

        var updated = await TryUpdateAsync(context, store, found, found with { StreamKey = Guid.NewGuid().ToString("D") }, ct);
        return updated is null ? Conflict(id) : Answer(context, updated, hub, options.Value);
    }

    private static async Task<IResult> SetEnabledAsync(string id, bool enabled, HttpContext context, LivestreamStore store, StreamHub hub, IOptions<MediaServerOptions> options, CancellationToken ct)
    {
        var found = await store.GetAsync(AccessTokenFilter.ApiKeyOf(context), id, ct);
        if (found is null)
        {
            return NotFound(id);
        }

        var updated = await TryUpdateAsync(context, store, found, found with { Enabled = enabled }, ct);
        if (updated is null)
        {
            return Conflict(id);
        }

        if (!enabled)
        {
            hub.Disconnect(found.PlaybackId);
        }

        return Answer(context, updated, hub, options.Value);
    }

    private static async Task<IResult> CreatePlaybackTokenAsync(string id, HttpContext context, LivestreamStore store, ApiKeyStore keys, IOptions<MediaServerOptions> options, TimeProvider time, CancellationToken ct)
    {
        var apiKey = AccessTokenFilter.ApiKeyOf(context);
        var found = await store.GetAsync(apiKey, id, ct);
        if (found is null)
        {
            return NotFound(id);
        }

        PlaybackTokenRequest? request = null;
        if (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestBodyDetectionFeature>()?.CanHaveBody != false)
        {
            var (body, error) = await ReadBodyAsync(context, ApiJson.Default.PlaybackTokenRequest, ct);
            if (error is not null)
            {
                return error;
            }

            request = body;
        }

        var seconds = request?.ExpiresIn ?? (long)AccessTokenValidator.DefaultPlaybackLifetime.TotalSeconds;
        var max = (long)AccessTokenValidator.MaxPlaybackLifetime.TotalSeconds;
        if (seconds < 1 || seconds > max)
        {
            return FieldError("expiresIn", $"expiresIn must be a whole number of seconds from 1 to {max} (7 days)");
        }

        // The caller's token was validated a moment ago, so the key exists; it may have been revoked since.
        var key = await keys.FindCachedAsync(apiKey, ct);
        if (key is null || key.IsRevoked)
        {
            return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized", detail: "unknown or revoked API key");
        }

        var (token, expiresAt) = AccessTokenValidator.CreatePlaybackToken(apiKey, key.Secret, found.PlaybackId, TimeSpan.FromSeconds(seconds), time);
        var urls = PlaybackUrls.Of(found, PublicUrls.From(options.Value));
        var query = "?token=" + Uri.EscapeDataString(token);
        return Results.Json(
            new PlaybackTokenResponse(token, found.PlaybackId, expiresAt, seconds, urls.Hls + query, urls.Recording + query, urls.Rtmp + query),
            ApiJson.Default.PlaybackTokenResponse);
    }

    // A write through compare-and-swap: based on the version the client names in If-Match (an ETag from an earlier
    // answer), else on the one just read. Null: the livestream changed in between (answered 409).
    private static Task<LivestreamRecord?> TryUpdateAsync(HttpContext context, LivestreamStore store, LivestreamRecord found, LivestreamRecord changed, CancellationToken ct)
    {
        if (IfMatchVersion(context) is { } expected && expected != found.Version)
        {
            return Task.FromResult<LivestreamRecord?>(null);
        }

        return store.TryUpdateAsync(changed, ct);
    }

    // If-Match: "7" (the ETag this API sends), W/"7" or 7; * or anything else: no condition.
    private static long? IfMatchVersion(HttpContext context)
    {
        var text = context.Request.Headers.IfMatch.ToString().Trim();
        if (text.StartsWith("W/", StringComparison.Ordinal))
        {
            text = text[2..];
        }

        return long.TryParse(text.Trim('"'), NumberStyles.None, CultureInfo.InvariantCulture, out var version) ? version : null;
    }

    private static IResult Answer(HttpContext context, LivestreamRecord livestream, StreamHub hub, MediaServerOptions options)
    {
        context.Response.Headers.ETag = "\"" + livestream.Version.ToString(CultureInfo.InvariantCulture) + "\"";
        return Results.Json(ToResponse(livestream, hub, options, context.RequestServices.GetService<RestreamManager>()), ApiJson.Default.LivestreamResponse);
    }

    private static IResult Conflict(string id) =>
        Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Conflict",
            detail: $"Livestream '{id}' was changed by another request; GET it and try again.");

    internal static LivestreamResponse ToResponse(LivestreamRecord l, StreamHub hub, MediaServerOptions options, RestreamManager? restream = null)
    {
        var urls = PublicUrls.From(options);
        var live = hub.Find(l.PlaybackId);
        var streamUrl = urls.RtmpBase + "/live/";
        var playback = PlaybackUrls.Of(l, urls);
        return new LivestreamResponse(
            l.Id,
            l.Name,
            l.Record,
            l.StreamKey,
            streamUrl,
            streamUrl + l.StreamKey,
            playback.Hls,
            playback.Recording,
            playback.Rtmp + (l.PlaybackPolicy == PlaybackPolicy.Signed ? "?token=" : ""),
            l.Restream,
            restream?.GetStatus(l.PlaybackId, l.Restream) ?? [.. l.Restream.Select(t => RestreamTargetStatus.Idle(t.Url))],
            l.PlaybackId,
            l.PlaybackPolicy == PlaybackPolicy.Signed ? "signed" : "public",
            l.Enabled,
            live is null ? "idle" : "live",
            live?.Diagnostics is { Count: > 0 } d ? d : null,
            l.CreatedAt,
            l.UpdatedAt,
            l.Version,
            l.RecordingLimits ?? RecordingLimits.None);
    }

    private static Task<(LivestreamRequest? Request, IResult? Error)> ReadBodyAsync(HttpContext context, CancellationToken ct) =>
        ReadBodyAsync(context, ApiJson.Default.LivestreamRequest, ct);

    private static async Task<(T? Request, IResult? Error)> ReadBodyAsync<T>(HttpContext context, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken ct)
        where T : class
    {
        if (context.Request.ContentLength > MaxBodyBytes)
        {
            return (null, TooLarge());
        }

        // Also for chunked bodies (no Content-Length): Kestrel stops reading past the limit with a 413.
        if (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxBodyBytes;
        }

        try
        {
            var request = await JsonSerializer.DeserializeAsync(context.Request.Body, type, ct);
            return request is null ? (null, FieldError("body", "the body must be a JSON object")) : (request, null);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, TooLarge());
        }
        catch (JsonException e)
        {
            var field = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "body" : e.Path.TrimStart('$', '.');
            return (null, FieldError(field, "invalid JSON: " + (e.Message.Split(" Path:")[0])));
        }
    }

    private static IResult? Validate(LivestreamRequest request, OutboundAddressPolicy addresses, out List<RestreamTarget>? restream, out PlaybackPolicy? policy)
    {
        restream = null;
        policy = null;
        if (request.Name is { Length: > MaxNameLength })
        {
            return FieldError("name", $"name is longer than {MaxNameLength} characters");
        }

        if (request.PlaybackPolicy is { } p)
        {
            policy = p switch
            {
                "public" => PlaybackPolicy.Public,
                "signed" => PlaybackPolicy.Signed,
                _ => null,
            };
            if (policy is null)
            {
                return FieldError("playbackPolicy", "playbackPolicy must be \"public\" or \"signed\"");
            }
        }

        if (request.Restream is { } targets)
        {
            if (targets.Count > MaxRestreamTargets)
            {
                return FieldError("restream", $"at most {MaxRestreamTargets} restream targets");
            }

            restream = new List<RestreamTarget>(targets.Count);
            for (var i = 0; i < targets.Count; i++)
            {
                var t = targets[i];
                if (t is null || !Uri.TryCreate(t.Url, UriKind.Absolute, out var uri) || uri.Scheme is not ("rtmp" or "rtmps") || string.IsNullOrEmpty(uri.Host))
                {
                    return FieldError($"restream[{i}].url", "url must be an rtmp:// or rtmps:// URL");
                }

                if (string.IsNullOrWhiteSpace(t.StreamKey) || t.StreamKey.Length > 1024)
                {
                    return FieldError($"restream[{i}].streamKey", "streamKey must be a non-empty string");
                }

                // A literal address is judged now; a host name when the worker connects (after DNS, same policy).
                var parsed = RtmpPublishTarget.Parse(t.Url!, t.StreamKey);
                if (System.Net.IPAddress.TryParse(parsed.Host, out var literal) && addresses.Check(literal, parsed.Port) is { } refusal)
                {
                    return FieldError($"restream[{i}].url", $"address not allowed: {literal}:{parsed.Port}: {refusal}");
                }

                restream.Add(new RestreamTarget(t.Url!, t.StreamKey));
            }
        }

        return null;
    }

    // Null limits (and no error) when the request has none: the livestream's stay as they are.
    private static IResult? ValidateLimits(RecordingLimitsDto? request, out RecordingLimits? limits)
    {
        limits = null;
        if (request is null)
        {
            return null;
        }

        if (request.MaxDurationSeconds is < 1 or > MaxRecordingSeconds)
        {
            return FieldError("recordingLimits.maxDurationSeconds", $"maxDurationSeconds must be a whole number of seconds from 1 to {MaxRecordingSeconds} (365 days), or null for no limit");
        }

        if (request.MaxBytes is < 1)
        {
            return FieldError("recordingLimits.maxBytes", "maxBytes must be a whole number of bytes, at least 1, or null for no limit");
        }

        if (request.RetentionDays is < 1 or > MaxRetentionDays)
        {
            return FieldError("recordingLimits.retentionDays", $"retentionDays must be a whole number of days from 1 to {MaxRetentionDays}, or null to keep recordings until deleted");
        }

        limits = new RecordingLimits(request.MaxDurationSeconds, request.MaxBytes, request.RetentionDays);
        return null;
    }

    private static bool TryQueryInt(HttpContext context, string name, int fallback, out int value)
    {
        var text = context.Request.Query[name].ToString();
        if (text.Length == 0)
        {
            value = fallback;
            return true;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    private static IResult TooLarge() =>
        Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Body too large", detail: $"The body is larger than {MaxBodyBytes} bytes.");

    internal static IResult FieldError(string field, string message) =>
        Results.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, title: "Invalid request");

    private static IResult NotFound(string id) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: $"No livestream '{id}'.");
}
