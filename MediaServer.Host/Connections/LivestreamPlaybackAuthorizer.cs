using MediaServer.Hls.Serving;
using MediaServer.Host.Auth;
using MediaServer.Host.Data;

namespace MediaServer.Host.Connections;

/// <summary>
/// HLS playback rules of stored livestreams (live and recordings). Public livestreams (and open-mode streams,
/// which have no stored livestream) play for everyone. A signed livestream needs either
/// <list type="bullet">
/// <item>a playback token for its playback id, in the <c>Authorization</c> header or as <c>?token=</c> (for players
/// that cannot set headers, such as Safari's native player), or</item>
/// <item>an API token of the API key that owns it, in the <c>Authorization</c> header only (raw or <c>Bearer</c>, as
/// hls.js <c>xhrSetup</c> and the product page's video.js snippet send it).</item>
/// </list>
/// A token that came in the query is carried into every URI of the playlist, since such players do not repeat it.
/// No, an invalid or an expired token, or an API token in the URL, is 401; a valid token of another API key or a
/// playback token for another playback id is 403.
/// </summary>
internal sealed class LivestreamPlaybackAuthorizer(LivestreamStore livestreams, ApiKeyStore keys, AccessTokenValidator tokens) : IPlaybackAuthorizer
{
    public const string TokenQueryName = "token";

    public async ValueTask<PlaybackAuthorization> AuthorizeAsync(HttpContext context, string streamId, HlsResourceKind kind)
    {
        var livestream = await livestreams.FindByPlaybackIdAsync(streamId, context.RequestAborted);
        if (livestream is null && livestreams.WasDeleted(streamId))
        {
            return PlaybackAuthorization.Deny; // what is left of a deleted livestream plays for no one
        }

        if (livestream is null)
        {
            // Only open mode (no API key at all) has streams without a stored livestream; otherwise it is what is left
            // of a deleted one, whatever the deleted-id cache still remembers.
            return await keys.AnyKeyExistsAsync(context.RequestAborted) ? PlaybackAuthorization.Deny : PlaybackAuthorization.Allow;
        }

        if (livestream.PlaybackPolicy != PlaybackPolicy.Signed)
        {
            return PlaybackAuthorization.Allow;
        }

        string? header = context.Request.Headers.Authorization;
        string? query = context.Request.Query[TokenQueryName];
        var fromHeader = !string.IsNullOrWhiteSpace(header);
        var credential = fromHeader ? header : query;
        if (string.IsNullOrWhiteSpace(credential))
        {
            return PlaybackAuthorization.Challenge;
        }

        var validation = await tokens.ValidatePlaybackAsync(credential, fromHeader ? CredentialSource.Header : CredentialSource.Url, context.RequestAborted);
        if (!validation.IsValid)
        {
            return PlaybackAuthorization.Challenge;
        }

        if (!Opens(validation, livestream))
        {
            return PlaybackAuthorization.Deny;
        }

        var carryToken = kind == HlsResourceKind.Playlist && !fromHeader;
        return carryToken
            ? new PlaybackAuthorization(true, TokenQueryName + "=" + Uri.EscapeDataString(query!), IsPrivate: true)
            : PlaybackAuthorization.AllowPrivate;
    }

    /// <summary>A valid token opens a livestream when its key owns it and, for a playback token, it names its playback id.</summary>
    public static bool Opens(TokenValidation validation, LivestreamRecord livestream) =>
        string.Equals(validation.ApiKey, livestream.ApiKey, StringComparison.Ordinal)
        && (!validation.IsPlaybackToken || string.Equals(validation.PlaybackId, livestream.PlaybackId, StringComparison.Ordinal));
}
