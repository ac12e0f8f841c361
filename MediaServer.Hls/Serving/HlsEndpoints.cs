using System.Globalization;
using MediaServer.Hls.Playlists;
using MediaServer.Hls.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MediaServer.Hls.Serving;

/// <summary>
/// HTTP endpoints serving HLS from memory:
/// <list type="bullet">
/// <item><c>GET|HEAD /live/{streamId}/index.m3u8</c> — the multivariant playlist (one variant with
/// BANDWIDTH, CODECS and RESOLUTION, pointing at <c>stream.m3u8</c>); <c>GET|HEAD /live/{streamId}/stream.m3u8</c>
/// — the live media playlist. Both <c>application/vnd.apple.mpegurl</c>, <c>Cache-Control: no-cache</c>
/// (they change every segment).</item>
/// <item><c>GET|HEAD /live/{streamId}/{session}-{sequence}.ts</c> — <c>video/mp2t</c>,
/// <c>Cache-Control: public, max-age=31536000, immutable</c>; a single byte range (<c>Range: bytes=…</c>) is
/// answered with 206 (see <see cref="ByteRange"/>). Immutable is safe because a segment name
/// never names two contents: the random per-run session id in it changes when a stream id is
/// republished, and within a run sequence numbers only grow.</item>
/// <item>LL-HLS (a part target configured): <c>{session}-{sequence}.{part}.ts</c> serves a part (a request for the
/// next part, the preload hint, blocks until it exists); <c>stream.m3u8?_HLS_msn=M[&amp;_HLS_part=N]</c> blocks until
/// the playlist holds that part (see <see cref="LowLatencyRequest"/>), <c>_HLS_skip=YES</c> answers a delta update.</item>
/// <item>Responses for a signed livestream (<see cref="PlaybackAuthorization.IsPrivate"/>) are <c>private</c>.</item>
/// <item><c>OPTIONS</c> on both: CORS preflight (GET/HEAD, <c>Authorization</c> and <c>Range</c> headers).</item>
/// </list>
/// Every response carries <c>Access-Control-Allow-Origin: *</c> (players are often on another origin).
/// Unknown streams, segments and sessions are 404; a refused <see cref="IPlaybackAuthorizer"/> is 401
/// (no valid credential) or 403.
/// Segment bytes go from the pooled chunk chain to the response body, under a lease, with no copy into
/// an intermediate array.
/// </summary>
public static class HlsEndpoints
{
    public const string PlaylistContentType = "application/vnd.apple.mpegurl";
    public const string SegmentContentType = "video/mp2t";
    public const string Fmp4ContentType = "video/mp4";
    public const string PlaylistCacheControl = "no-cache";
    public const string SegmentCacheControl = "public, max-age=31536000, immutable";
    public const string PrivateSegmentCacheControl = "private, max-age=31536000, immutable";
    public const string PrivatePlaylistCacheControl = "private, no-cache";

    private static readonly string[] s_readMethods = [HttpMethods.Get, HttpMethods.Head];
    private static readonly string[] s_preflightMethods = [HttpMethods.Options];

    /// <summary>Maps the HLS endpoints under <paramref name="prefix"/> (default <c>/live</c>); the host calls
    /// <see cref="HlsEndpointRouteBuilderExtensions.MapHls"/>.</summary>
    public static IEndpointRouteBuilder Map(IEndpointRouteBuilder endpoints, string prefix = "/live")
    {
        prefix = prefix.TrimEnd('/');
        var multivariant = prefix + "/{streamId}/index.m3u8";
        var playlist = prefix + "/{streamId}/" + HlsStream.MediaPlaylistName;
        var segment = prefix + "/{streamId}/{segment}.ts";
        var fmp4Segment = prefix + "/{streamId}/{segment}.m4s";
        var init = prefix + "/{streamId}/{init}.mp4";
        endpoints.MapMethods(multivariant, s_readMethods, ServeMultivariantPlaylistAsync).WithDisplayName("HLS multivariant playlist");
        endpoints.MapMethods(playlist, s_readMethods, ServePlaylistAsync).WithDisplayName("HLS playlist");
        endpoints.MapMethods(segment, s_readMethods, static context => ServeSegmentAsync(context, HlsContainer.Ts)).WithDisplayName("HLS segment");
        endpoints.MapMethods(fmp4Segment, s_readMethods, static context => ServeSegmentAsync(context, HlsContainer.Fmp4)).WithDisplayName("HLS fMP4 segment");
        endpoints.MapMethods(init, s_readMethods, ServeInitAsync).WithDisplayName("HLS fMP4 initialization segment");
        endpoints.MapMethods(multivariant, s_preflightMethods, Preflight).WithDisplayName("HLS multivariant playlist preflight");
        endpoints.MapMethods(playlist, s_preflightMethods, Preflight).WithDisplayName("HLS playlist preflight");
        endpoints.MapMethods(segment, s_preflightMethods, Preflight).WithDisplayName("HLS segment preflight");
        endpoints.MapMethods(fmp4Segment, s_preflightMethods, Preflight).WithDisplayName("HLS fMP4 segment preflight");
        endpoints.MapMethods(init, s_preflightMethods, Preflight).WithDisplayName("HLS fMP4 initialization segment preflight");
        return endpoints;
    }

    private static Task ServeMultivariantPlaylistAsync(HttpContext context) => ServePlaylistAsync(context, multivariant: true);

    private static Task ServePlaylistAsync(HttpContext context) => ServePlaylistAsync(context, multivariant: false);

    private static async Task ServePlaylistAsync(HttpContext context, bool multivariant)
    {
        var response = context.Response;
        response.Headers.AccessControlAllowOrigin = "*";
        var streamId = context.Request.RouteValues["streamId"] as string;
        var store = context.RequestServices.GetRequiredService<HlsStreamStore>();
        if (!TryGetContainer(context.Request.Query, out var named))
        {
            BadRequest(response, "container must be ts or fmp4.");
            return;
        }

        if (streamId is null)
        {
            NotFound(response);
            return;
        }

        var container = named ?? store.DefaultContainer(streamId);
        var stream = store.Find(streamId, container);
        PlaybackAuthorization? authorization = null;
        if (stream is null && store.IsOnDemand(container))
        {
            // Made only while watched: a viewer allowed to watch starts it (a refused one costs nothing).
            if ((authorization = await AuthorizeAsync(context, streamId, HlsResourceKind.Playlist).ConfigureAwait(false)) is null)
            {
                return;
            }

            stream = store.FindOrActivate(streamId, container);
        }

        if (stream is not null && stream.Playlist is null && store.IsOnDemand(container))
        {
            // Just started for this request (or for another viewer a moment ago): wait for its first segment.
            await WaitForAsync(stream, () => stream.Playlist is null && !stream.IsEnded ? PlaylistWait.Wait : PlaylistWait.Ready,
                context.RequestAborted, store.FirstPlaylistWait).ConfigureAwait(false);
        }

        if (stream is null || (multivariant ? stream.MultivariantPlaylist : stream.Playlist) is not { } playlist)
        {
            NotFound(response);
            return;
        }

        stream.Touch();
        authorization ??= await AuthorizeAsync(context, streamId, HlsResourceKind.Playlist).ConfigureAwait(false);
        if (authorization is not { } allowed)
        {
            return;
        }

        var ll = multivariant || stream.PartTargetMs == 0 ? default : LowLatencyRequest.Parse(context.Request.Query);
        if (ll.Error is { } error)
        {
            BadRequest(response, error);
            return;
        }

        long readyAt = 0;
        if (ll.MediaSequence is { } msn)
        {
            (var outcome, readyAt) = await WaitForAsync(stream, () => stream.Check(msn, ll.Part), context.RequestAborted).ConfigureAwait(false);
            if (outcome != PlaylistWait.Ready)
            {
                if (outcome == PlaylistWait.TooFar)
                {
                    BadRequest(response, "_HLS_msn is beyond the next two segments.");
                }
                else
                {
                    response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                    response.Headers.CacheControl = "no-store";
                }

                return;
            }

            playlist = stream.Playlist ?? playlist;
        }

        // An explicit container is carried into the media playlist URI, as the token is, so the player stays on it.
        var carried = multivariant && named is { } explicitContainer
            ? Join("container=" + (explicitContainer == HlsContainer.Fmp4 ? "fmp4" : "ts"), allowed.SegmentQuery)
            : allowed.SegmentQuery;
        if (!string.IsNullOrEmpty(carried) || ll.Skip)
        {
            playlist = (multivariant
                ? stream.RenderMultivariantPlaylist(carried)
                : stream.RenderPlaylist(carried, ll.Skip)) ?? playlist;
        }

        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = PlaylistContentType;
        response.Headers.CacheControl = PlaylistCache(allowed.IsPrivate, ll.MediaSequence is not null ? stream.TargetDuration : 0);
        response.ContentLength = playlist.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(playlist, context.RequestAborted).ConfigureAwait(false);
        }

        if (readyAt != 0)
        {
            context.RequestServices.GetService<HlsMetrics>()?.BlockedAnswered(part: false, readyAt);
        }
    }

    // A plain playlist changes at every part or segment: no-cache. A blocking request names the part it waits for
    // (a unique URL whose answer only grows): a shared cache may keep it one target duration and collapse the
    // requests of many viewers into one (RFC 8216bis §6.2.5.2, Apple's "CDN tune-in").
    private static string PlaylistCache(bool isPrivate, int blockingMaxAge) =>
        blockingMaxAge <= 0 ? (isPrivate ? PrivatePlaylistCacheControl : PlaylistCacheControl)
        : blockingMaxAge < s_blockingCache.Length ? s_blockingCache[blockingMaxAge][isPrivate ? 1 : 0]
        : (isPrivate ? "private, max-age=" : "public, max-age=") + blockingMaxAge.ToString(CultureInfo.InvariantCulture);

    // The blocking playlists' Cache-Control per target duration (at most 60 s), built once: a thousand LL viewers ask
    // several times a second.
    private static readonly string[][] s_blockingCache = [.. Enumerable.Range(0, 61).Select(static age => new[]
    {
        "public, max-age=" + age.ToString(CultureInfo.InvariantCulture),
        "private, max-age=" + age.ToString(CultureInfo.InvariantCulture),
    })];

    /// <summary>
    /// Waits, without a thread, until <paramref name="check"/> is no longer <see cref="PlaylistWait.Wait"/> or three
    /// target durations pass (RFC 8216bis §6.2.5.2: then 503). Every part, segment or end of the stream wakes it.
    /// <c>ReadyAt</c> is when the change that answered it happened (<see cref="System.Diagnostics.Stopwatch"/> ticks),
    /// 0 when it did not wait.
    /// </summary>
    private static async Task<(PlaylistWait Outcome, long ReadyAt)> WaitForAsync(HlsStream stream, Func<PlaylistWait> check, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        ChangeSignal? woke = null;
        CancellationTokenSource? deadline = null;
        try
        {
            while (true)
            {
                var changed = stream.NextChange; // taken before the check, so a change in between is not missed
                var outcome = check();
                if (outcome != PlaylistWait.Wait)
                {
                    return (outcome, woke?.CompletedAt ?? 0);
                }

                if (deadline is null)
                {
                    deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    deadline.CancelAfter(timeout ?? TimeSpan.FromSeconds(3 * Math.Max(1, stream.TargetDuration)));
                }

                try
                {
                    await changed.Task.WaitAsync(deadline.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    return (PlaylistWait.Wait, 0);
                }

                woke = changed;
            }
        }
        finally
        {
            deadline?.Dispose();
        }
    }

    // The authorizer's answer, or null once the refusal (401/403) is written.
    private static async ValueTask<PlaybackAuthorization?> AuthorizeAsync(HttpContext context, string streamId, HlsResourceKind kind)
    {
        var authorization = await context.RequestServices.GetRequiredService<IPlaybackAuthorizer>()
            .AuthorizeAsync(context, streamId, kind).ConfigureAwait(false);
        if (!authorization.IsAllowed)
        {
            Refuse(context.Response, authorization);
            return null;
        }

        return authorization;
    }

    private static bool TryGetContainer(IQueryCollection query, out HlsContainer? container)
    {
        container = null;
        if (!query.TryGetValue("container", out var value))
        {
            return true;
        }

        container = value.ToString() switch { "ts" => HlsContainer.Ts, "fmp4" => HlsContainer.Fmp4, _ => null };
        return container is not null;
    }

    private static string Join(string first, string? second) => string.IsNullOrEmpty(second) ? first : first + "&" + second;

    private static async Task ServeInitAsync(HttpContext context)
    {
        var response = context.Response;
        response.Headers.AccessControlAllowOrigin = "*";
        var streamId = context.Request.RouteValues["streamId"] as string;
        var name = context.Request.RouteValues["init"] as string;
        var stream = streamId is null ? null : context.RequestServices.GetRequiredService<HlsStreamStore>().Find(streamId, HlsContainer.Fmp4);
        if (stream is null
            || !SegmentNames.TryParseInit(name, out var sessionId, out var version)
            || !sessionId.SequenceEqual(stream.SessionId)
            || stream.FindInitSegment(version) is not { } bytes)
        {
            NotFound(response);
            return;
        }

        stream.Touch();

        if (await AuthorizeAsync(context, stream.StreamId, HlsResourceKind.Segment).ConfigureAwait(false) is not { } authorization)
        {
            return;
        }

        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = Fmp4ContentType;
        response.Headers.CacheControl = authorization.IsPrivate ? PrivateSegmentCacheControl : SegmentCacheControl;
        response.ContentLength = bytes.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
        }
    }

    private static async Task ServeSegmentAsync(HttpContext context, HlsContainer container)
    {
        var response = context.Response;
        response.Headers.AccessControlAllowOrigin = "*";
        var streamId = context.Request.RouteValues["streamId"] as string;
        var name = context.Request.RouteValues["segment"] as string;
        var stream = streamId is null ? null : context.RequestServices.GetRequiredService<HlsStreamStore>().Find(streamId, container);
        if (stream is null
            || !SegmentNames.TryParseLive(name, out var sessionId, out var sequenceNumber, out var partIndex)
            || !sessionId.SequenceEqual(stream.SessionId))
        {
            NotFound(response);
            return;
        }

        stream.Touch();

        if (await AuthorizeAsync(context, stream.StreamId, HlsResourceKind.Segment).ConfigureAwait(false) is not { } authorization)
        {
            return;
        }

        if (partIndex is { } index)
        {
            await ServePartAsync(context, stream, sequenceNumber, index, authorization.IsPrivate).ConfigureAwait(false);
            return;
        }

        if (!stream.TryAcquireSegment(sequenceNumber, out var segment))
        {
            NotFound(response);
            return;
        }

        try
        {
            var length = segment!.Length;
            response.ContentType = ContentTypeOf(container);
            response.Headers.CacheControl = authorization.IsPrivate ? PrivateSegmentCacheControl : SegmentCacheControl;
            response.Headers.AcceptRanges = "bytes";
            // RFC 9110 §14.2: ranges are defined for GET only; a HEAD ignores them.
            var kind = HttpMethods.IsGet(context.Request.Method)
                ? ByteRange.Resolve(context.Request, length, out var start, out var count)
                : ByteRange.Whole(length, out start, out count);
            switch (kind)
            {
                case ByteRangeKind.Unsatisfiable:
                    response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
                    response.Headers.ContentRange = $"bytes */{length}";
                    response.ContentLength = 0;
                    return;
                case ByteRangeKind.Partial:
                    response.StatusCode = StatusCodes.Status206PartialContent;
                    response.Headers.ContentRange = $"bytes {start}-{start + count - 1}/{length}";
                    break;
                default:
                    response.StatusCode = StatusCodes.Status200OK;
                    break;
            }

            response.ContentLength = count;
            if (!HttpMethods.IsHead(context.Request.Method))
            {
                await WriteBodyAsync(context, segment.Buffer, start, count).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The player went away mid-segment: nothing to report.
        }
        finally
        {
            segment!.Buffer.Release();
        }
    }

    // A part: its byte range of the segment's buffer (the segment being built included), under a lease. The next
    // parts (the preload hint) block until they exist (RFC 8216bis §6.2.6), as long as a blocked playlist would.
    private static async Task ServePartAsync(HttpContext context, HlsStream stream, long sequenceNumber, int partIndex, bool isPrivate)
    {
        var response = context.Response;
        SegmentPart part = default;
        var found = stream.TryAcquirePart(sequenceNumber, partIndex, out part);
        long readyAt = 0;
        if (!found && stream.IsUpcomingPart(sequenceNumber, partIndex))
        {
            (_, readyAt) = await WaitForAsync(
                stream,
                () => stream.TryAcquirePart(sequenceNumber, partIndex, out part) ? PlaylistWait.Ready
                    : stream.IsUpcomingPart(sequenceNumber, partIndex) ? PlaylistWait.Wait : PlaylistWait.TooFar,
                context.RequestAborted).ConfigureAwait(false);
            found = part.Buffer is not null;
        }

        if (!found)
        {
            NotFound(response);
            return;
        }

        try
        {
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = ContentTypeOf(stream.Container);
            response.Headers.CacheControl = isPrivate ? PrivateSegmentCacheControl : SegmentCacheControl;
            response.ContentLength = part.Length;
            if (!HttpMethods.IsHead(context.Request.Method))
            {
                await WriteBodyAsync(context, part.Buffer!, part.Offset, part.Length).ConfigureAwait(false);
            }

            if (readyAt != 0)
            {
                context.RequestServices.GetService<HlsMetrics>()?.BlockedAnswered(part: true, readyAt);
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The player went away mid-part.
        }
        finally
        {
            part.Buffer!.Release();
        }
    }

    // Writes a segment's bytes chunk by chunk; a reader that takes no chunk for StalledReaderTimeout is dropped, and the
    // lease on the segment returned, instead of holding it for as long as the connection lives. Kestrel's
    // MinResponseDataRate did not drop such a reader on this server (measured: a reader of an 8 MB segment taking
    // nothing for 12 s, and one reading at 20 KB/s with a 64 KB/s minimum for 40 s, were both kept).
    private static async ValueTask WriteBodyAsync(HttpContext context, SegmentBuffer buffer, long offset, long count)
    {
        var timeout = context.RequestServices.GetService<IOptions<HlsOptions>>()?.Value.StalledReaderTimeout ?? TimeSpan.Zero;
        // Its own timer, not linked to RequestAborted: when it fired, the reader stalled. Kestrel may answer the cancelled
        // flush by aborting the connection itself (no exception), so the timer's state decides, not the exception.
        using var stall = timeout > TimeSpan.Zero ? new CancellationTokenSource() : null;
        try
        {
            await buffer.WriteToAsync(context.Response.BodyWriter, offset, count, context.RequestAborted, stall, timeout).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stall is { IsCancellationRequested: true })
        {
        }

        if (stall is { IsCancellationRequested: true })
        {
            context.RequestServices.GetService<ILoggerFactory>()?.CreateLogger("MediaServer.Hls").LogWarning(
                "HLS reader {Remote} of {Path} took nothing for {Seconds} s; disconnecting (MediaServer:Hls:StalledReaderTimeout)",
                context.Connection.RemoteIpAddress, context.Request.Path.Value, timeout.TotalSeconds);
            context.Abort();
        }
    }

    private static string ContentTypeOf(HlsContainer container) => container == HlsContainer.Fmp4 ? Fmp4ContentType : SegmentContentType;

    private static void BadRequest(HttpResponse response, string message)
    {
        response.StatusCode = StatusCodes.Status400BadRequest;
        response.Headers.CacheControl = "no-store";
        response.ContentType = "text/plain; charset=utf-8";
        _ = response.WriteAsync(message);
    }

    private static Task Preflight(HttpContext context)
    {
        var headers = context.Response.Headers;
        headers.AccessControlAllowOrigin = "*";
        headers.AccessControlAllowMethods = "GET, HEAD, OPTIONS";
        headers.AccessControlAllowHeaders = "Authorization, Range";
        headers.AccessControlMaxAge = "86400";
        context.Response.StatusCode = StatusCodes.Status204NoContent;
        return Task.CompletedTask;
    }

    private static void NotFound(HttpResponse response)
    {
        response.StatusCode = StatusCodes.Status404NotFound;
        response.Headers.CacheControl = "no-store";
    }

    private static void Refuse(HttpResponse response, PlaybackAuthorization authorization)
    {
        response.Headers.CacheControl = "no-store";
        if (authorization.NeedsCredentials)
        {
            response.StatusCode = StatusCodes.Status401Unauthorized;
            response.Headers.WWWAuthenticate = "Bearer";
        }
        else
        {
            response.StatusCode = StatusCodes.Status403Forbidden;
        }
    }
}
