using Microsoft.AspNetCore.Http;

namespace MediaServer.Hls.Serving;

/// <summary>What an HLS request asks for.</summary>
public enum HlsResourceKind : byte
{
    Playlist = 1,
    Segment = 2,
}

/// <summary>The answer of an <see cref="IPlaybackAuthorizer"/>.</summary>
/// <param name="IsAllowed">Serve the resource (else 401 when <paramref name="NeedsCredentials"/>, 403 otherwise).</param>
/// <param name="SegmentQuery">For playlists: a query string (without '?') to append to every segment URI,
/// e.g. the playback token that authorised the playlist, since Apple players do not send custom headers
/// on segment requests. Null serves the cached playlist as-is.</param>
/// <param name="NeedsCredentials">Refused because no valid credential came with the request: answered 401
/// with a <c>WWW-Authenticate: Bearer</c> challenge rather than 403.</param>
/// <param name="IsPrivate">Allowed for this viewer only (a signed livestream): every response is
/// <c>Cache-Control: private</c>, so no shared cache keeps it for others.</param>
public readonly record struct PlaybackAuthorization(bool IsAllowed, string? SegmentQuery = null, bool NeedsCredentials = false, bool IsPrivate = false)
{
    public static PlaybackAuthorization Allow => new(true);

    /// <summary>Allowed for this viewer only (see <see cref="IsPrivate"/>).</summary>
    public static PlaybackAuthorization AllowPrivate => new(true, IsPrivate: true);

    /// <summary>Refused whatever credential is sent: 403.</summary>
    public static PlaybackAuthorization Deny => new(false);

    /// <summary>Refused until a valid credential is sent: 401.</summary>
    public static PlaybackAuthorization Challenge => new(false, NeedsCredentials: true);
}

/// <summary>
/// The seam for playback authorisation, called once per HLS request (playlist and segment) before
/// anything is served. The host replaces the default with token checks.
/// </summary>
public interface IPlaybackAuthorizer
{
    ValueTask<PlaybackAuthorization> AuthorizeAsync(HttpContext context, string streamId, HlsResourceKind kind);
}

/// <summary>Default: everyone may watch.</summary>
public sealed class AllowAllPlaybackAuthorizer : IPlaybackAuthorizer
{
    public ValueTask<PlaybackAuthorization> AuthorizeAsync(HttpContext context, string streamId, HlsResourceKind kind) =>
        ValueTask.FromResult(PlaybackAuthorization.Allow);
}
