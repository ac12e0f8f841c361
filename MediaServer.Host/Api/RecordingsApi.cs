using System.Text;
using MediaServer.Hls.Playlists;
using MediaServer.Hls.Serving;
using MediaServer.Host.Configuration;
using MediaServer.Host.Data;
using MediaServer.Host.Recording;
using Microsoft.Extensions.Options;

namespace MediaServer.Host.Api;

/// <summary>A recording session as the API lists it.</summary>
public sealed record RecordingResponse(
    string Id,
    DateTimeOffset StartedAt,
    DateTimeOffset? EndedAt,
    double Duration,
    long Size,
    int Segments,
    string Status,
    string? Error,
    string Url,
    string? StopReason = null);

public sealed record RecordingList(IReadOnlyList<RecordingResponse> Data);

/// <summary>
/// Recordings: <c>GET /v1/livestreams/{id}/recordings</c> and <c>DELETE /v1/livestreams/{id}/recordings/{sessionId}</c>
/// (access token), and playback from disk under <c>/recordings/{playbackId}/</c> with the livestream's
/// playback policy: <c>index.m3u8</c> is the latest session, <c>{sessionId}/index.m3u8</c> any session.
/// </summary>
internal static class RecordingsApi
{
    private const string PlaylistContentType = "application/vnd.apple.mpegurl";

    public static IEndpointRouteBuilder MapRecordingsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/v1/livestreams/{id}/recordings")
            .AddEndpointFilter<AccessTokenFilter>()
            .WithTags("Recordings");
        group.MapGet("/", ListAsync).WithSummary("List the recording sessions of a livestream, oldest first");
        group.MapDelete("/{sessionId}", DeleteAsync).WithSummary("Delete a recording session (not while it is being recorded)");

        endpoints.MapGet("/recordings/{playbackId}/index.m3u8", (string playbackId, HttpContext context, LatestRecordingCache latest) =>
            ServeLatestPlaylistAsync(playbackId, context, latest)).ExcludeFromDescription();
        endpoints.MapGet("/recordings/{playbackId}/{sessionId}/index.m3u8", (string playbackId, string sessionId, HttpContext context, RecordingStore store) =>
            ServePlaylistAsync(playbackId, sessionId, prefix: "", context, store)).ExcludeFromDescription();
        endpoints.MapGet("/recordings/{playbackId}/{sessionId}/{segment}", ServeSegmentAsync).ExcludeFromDescription();
        return endpoints;
    }

    private static async Task<IResult> ListAsync(string id, HttpContext context, LivestreamStore livestreams, RecordingStore store, RecordingManager recorder, IOptions<MediaServerOptions> options, CancellationToken ct)
    {
        var livestream = await livestreams.GetWithRecordingsAsync(AccessTokenFilter.ApiKeyOf(context), id, ct);
        if (livestream is null)
        {
            return NotFound($"No livestream '{id}'.");
        }

        var urls = PublicUrls.From(options.Value);
        var data = store.List(livestream.PlaybackId)
            .Select(r => new RecordingResponse(
                r.Metadata.SessionId,
                r.Metadata.StartedAt,
                r.Metadata.EndedAt,
                r.DurationMs / 1000.0,
                r.Bytes,
                r.Segments,
                r.Metadata.Status == RecordingStatus.Recording && !recorder.IsRecording(r.Metadata.PlaybackId, r.Metadata.SessionId)
                    ? RecordingStatus.Failed // Its recorder is gone without finishing (only until the next start).
                    : r.Metadata.Status,
                r.Metadata.Error,
                $"{urls.HttpBase}/recordings/{livestream.PlaybackId}/{r.Metadata.SessionId}/index.m3u8",
                r.Metadata.StopReason))
            .ToList();
        return Results.Json(new RecordingList(data), ApiJson.Default.RecordingList);
    }

    private static async Task<IResult> DeleteAsync(string id, string sessionId, HttpContext context, LivestreamStore livestreams, RecordingStore store, RecordingManager recorder, CancellationToken ct)
    {
        var livestream = await livestreams.GetWithRecordingsAsync(AccessTokenFilter.ApiKeyOf(context), id, ct);
        if (livestream is null)
        {
            return NotFound($"No livestream '{id}'.");
        }

        if (recorder.IsRecording(livestream.PlaybackId, sessionId))
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Recording in progress",
                detail: "This session is being recorded; delete it once the stream has ended.");
        }

        if (!store.Delete(livestream.PlaybackId, sessionId))
        {
            return NotFound($"No recording '{sessionId}'.");
        }

        // A livestream deleted with its recordings kept is gone for good with its last recording.
        if (livestream.DeletedAt is not null && store.List(livestream.PlaybackId).Count == 0)
        {
            await livestreams.PurgeAsync(livestream, ct);
        }

        return Results.NoContent();
    }

    private static async Task ServeLatestPlaylistAsync(string playbackId, HttpContext context, LatestRecordingCache latest)
    {
        // Who may watch is decided before anything is read from disk: an unauthorized request costs no file reads.
        var authorization = await AuthorizeStoredAsync(context, playbackId, HlsResourceKind.Playlist);
        if (authorization is not { IsAllowed: true } allowed)
        {
            RefuseWith(context.Response, authorization);
            return;
        }

        if (latest.LatestSession(playbackId) is not { } sessionId)
        {
            Refuse(context.Response, StatusCodes.Status404NotFound);
            return;
        }

        // Served in place (not redirected) with the session folder in every segment URI.
        await WritePlaylistAsync(playbackId, sessionId, sessionId + "/", allowed, context, context.RequestServices.GetRequiredService<RecordingStore>());
    }

    private static async Task ServePlaylistAsync(string playbackId, string sessionId, string prefix, HttpContext context, RecordingStore store)
    {
        var authorization = RecordingStore.IsValidId(sessionId) ? await AuthorizeStoredAsync(context, playbackId, HlsResourceKind.Playlist) : null;
        if (authorization is not { IsAllowed: true } allowed)
        {
            RefuseWith(context.Response, authorization);
            return;
        }

        await WritePlaylistAsync(playbackId, sessionId, prefix, allowed, context, store);
    }

    private static async Task WritePlaylistAsync(string playbackId, string sessionId, string prefix, PlaybackAuthorization authorization, HttpContext context, RecordingStore store)
    {
        var response = context.Response;
        response.Headers.AccessControlAllowOrigin = "*";
        var path = Path.Combine(store.SessionDirectory(playbackId, sessionId), RecordingWriter.PlaylistName);
        if (!File.Exists(path))
        {
            Refuse(response, StatusCodes.Status404NotFound);
            return;
        }

        var text = RecordingWriter.CompleteEntries(await File.ReadAllTextAsync(path, context.RequestAborted)); // not an entry being appended
        var query = string.IsNullOrEmpty(authorization.SegmentQuery) ? "" : "?" + authorization.SegmentQuery;
        if (prefix.Length > 0 || query.Length > 0)
        {
            var rewritten = new StringBuilder(text.Length + 256);
            foreach (var line in text.Split('\n'))
            {
                if (line.Length == 0)
                {
                    continue;
                }

                rewritten.Append(line[0] == '#' ? line : prefix + line + query).Append('\n');
            }

            text = rewritten.ToString();
        }

        var bytes = Encoding.UTF8.GetBytes(text);
        response.ContentType = PlaylistContentType;
        response.Headers.CacheControl = authorization.IsPrivate ? HlsEndpoints.PrivatePlaylistCacheControl : HlsEndpoints.PlaylistCacheControl;
        response.ContentLength = bytes.Length;
        await response.Body.WriteAsync(bytes, context.RequestAborted);
    }

    private static async Task<IResult> ServeSegmentAsync(string playbackId, string sessionId, string segment, HttpContext context, RecordingStore store)
    {
        context.Response.Headers.AccessControlAllowOrigin = "*";
        if (!RecordingStore.IsValidId(sessionId) || segment is null || !SegmentNames.IsRecording(segment))
        {
            return Results.NotFound();
        }

        var authorization = await AuthorizeStoredAsync(context, playbackId, HlsResourceKind.Segment);
        if (authorization is not { } decided)
        {
            return Results.NotFound();
        }

        if (!decided.IsAllowed)
        {
            if (decided.NeedsCredentials)
            {
                context.Response.Headers.WWWAuthenticate = "Bearer";
            }

            return Results.StatusCode(decided.NeedsCredentials ? StatusCodes.Status401Unauthorized : StatusCodes.Status403Forbidden);
        }

        var path = Path.Combine(store.SessionDirectory(playbackId, sessionId), segment);
        if (!File.Exists(path))
        {
            return Results.NotFound();
        }

        // A session id names one run of a stream, and segment files are never rewritten: immutable. A signed
        // livestream's are for this viewer only: private, so no shared cache hands them to anyone else.
        context.Response.Headers.CacheControl = decided.IsPrivate ? HlsEndpoints.PrivateSegmentCacheControl : HlsEndpoints.SegmentCacheControl;
        return Results.File(path, "video/mp2t", enableRangeProcessing: true);
    }

    /// <summary>
    /// The playback decision for a stored livestream's recordings, from the database only (no disk): null (404) when
    /// the id is not valid or no livestream has it.
    /// </summary>
    private static async ValueTask<PlaybackAuthorization?> AuthorizeStoredAsync(HttpContext context, string playbackId, HlsResourceKind kind) =>
        RecordingStore.IsValidId(playbackId) && await IsStoredLivestreamAsync(context, playbackId)
            ? await AuthorizeAsync(context, playbackId, kind)
            : null;

    private static void RefuseWith(HttpResponse response, PlaybackAuthorization? authorization) =>
        Refuse(response, authorization is not { } decided ? StatusCodes.Status404NotFound
            : decided.NeedsCredentials ? StatusCodes.Status401Unauthorized : StatusCodes.Status403Forbidden);

    // Recordings play only while their livestream exists: its playback policy decides who may watch, and a
    // deleted livestream's recordings (kept on disk) must not fall back to public.
    private static async ValueTask<bool> IsStoredLivestreamAsync(HttpContext context, string playbackId) =>
        await context.RequestServices.GetRequiredService<LivestreamStore>().FindByPlaybackIdAsync(playbackId, context.RequestAborted) is not null;

    private static ValueTask<PlaybackAuthorization> AuthorizeAsync(HttpContext context, string playbackId, HlsResourceKind kind) =>
        context.RequestServices.GetRequiredService<IPlaybackAuthorizer>().AuthorizeAsync(context, playbackId, kind);

    private static void Refuse(HttpResponse response, int status)
    {
        response.StatusCode = status;
        response.Headers.CacheControl = "no-store";
        if (status == StatusCodes.Status401Unauthorized)
        {
            response.Headers.WWWAuthenticate = "Bearer";
        }
    }

    private static IResult NotFound(string detail) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: detail);
}
