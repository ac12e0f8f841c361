using MediaServer.Hls.Serving;
using MediaServer.Host.Auth;
using MediaServer.Host.Data;

namespace MediaServer.Host.Connections;

/// <summary>
/// HLS playback rules of stored livestreams. Public livestreams (and open-mode streams, which have no
/// stored livestream) play for everyone. A signed livestream needs an access token of the API key that owns
/// it, sent as the <c>Authorization</c> header (raw or <c>Bearer</c>, as hls.js <c>xhrSetup</c> does) or as
/// <c>?token=</c> (for players that cannot set headers, such as Safari's native player). A token that came
/// in the query is carried into the segment URIs of the playlist, since such players do not repeat it.
/// No or an invalid token is 401; a valid token of another API key is 403.
/// </summary>
internal sealed class LivestreamPlaybackAuthorizer(LivestreamStore livestreams, AccessTokenValidator tokens) : IPlaybackAuthorizer
{
    public const string TokenQueryName = "token";

    public async ValueTask<PlaybackAuthorization> AuthorizeAsync(HttpContext context, string streamId, HlsResourceKind kind)
    {
        var livestream = await livestreams.FindByPlaybackIdAsync(streamId, context.RequestAborted);
        if (livestream is null || livestream.PlaybackPolicy != PlaybackPolicy.Signed)
        {
            return PlaybackAuthorization.Allow;
        }

        string? header = context.Request.Headers.Authorization;
        string? query = context.Request.Query[TokenQueryName];
        var credential = string.IsNullOrWhiteSpace(header) ? query : header;
        if (string.IsNullOrWhiteSpace(credential))
        {
            return PlaybackAuthorization.Challenge;
        }

        var validation = await tokens.ValidateAsync(credential, context.RequestAborted);
        if (!validation.IsValid)
        {
            return PlaybackAuthorization.Challenge;
        }

        if (!string.Equals(validation.ApiKey, livestream.ApiKey, StringComparison.Ordinal))
        {
            return PlaybackAuthorization.Deny;
        }

        var carryToken = kind == HlsResourceKind.Playlist && ReferenceEquals(credential, query);
        return carryToken
            ? new PlaybackAuthorization(true, TokenQueryName + "=" + Uri.EscapeDataString(query!), IsPrivate: true)
            : PlaybackAuthorization.AllowPrivate;
    }
}
