using System.Text;
using MediaServer.Host.Data;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace MediaServer.Host.Auth;

/// <summary>The <c>MediaServer:Auth</c> configuration section.</summary>
public sealed class AuthOptions
{
    /// <summary>Refuse tokens without <c>exp</c>. Off by default: three of the product page's five token snippets make none.</summary>
    public bool RequireExpiration { get; set; }

    /// <summary>Clock skew tolerated on <c>exp</c> and <c>nbf</c>, in seconds.</summary>
    public int ClockSkewSeconds { get; set; } = 60;
}

/// <summary>The outcome of validating an access token.</summary>
/// <param name="ApiKey">The API key the token was signed for (null: refused).</param>
/// <param name="PlaybackId">For a playback token, the one playback id it opens (its <c>sub</c>); null for an API token.</param>
/// <param name="Error">Why it was refused.</param>
public readonly record struct TokenValidation(string? ApiKey, string? Error, string? PlaybackId = null)
{
    public bool IsValid => ApiKey is not null;

    public bool IsPlaybackToken => PlaybackId is not null;
}

/// <summary>Where a credential came with a playback request: only playback tokens may travel in a URL.</summary>
public enum CredentialSource
{
    /// <summary>The <c>Authorization</c> header (hls.js <c>xhrSetup</c>, video.js <c>beforeRequest</c>): API or playback token.</summary>
    Header,

    /// <summary><c>?token=</c> on an HLS, recording or RTMP play URL: playback tokens only, since URLs end up in
    /// shared links, browser history, Referer headers and proxy logs.</summary>
    Url,
}

/// <summary>
/// Validates the two kinds of token, both HS256 JWTs with an <c>apikey</c> claim signed with that key's secret
/// (the secret's UTF-8 bytes, as jsonwebtoken, PyJWT, jjwt, ruby-jwt and php-jwt use it):
/// <list type="bullet">
/// <item>API tokens, as the product page makes them: they open the API and, in the <c>Authorization</c> header,
/// every signed livestream of their key. <c>exp</c> is optional unless <see cref="AuthOptions.RequireExpiration"/>.</item>
/// <item>Playback tokens (as Mux's signed playback): <c>aud</c> = <c>playback</c>, <c>sub</c> = one playback id,
/// <c>exp</c> required. They open that one livestream's HLS, recordings and RTMP play, in a header or a URL, and
/// nothing else: the API refuses them.</item>
/// </list>
/// Sent as the raw <c>Authorization</c> value, as <c>Bearer &lt;token&gt;</c>, or (playback only) as <c>?token=</c>.
/// </summary>
public sealed class AccessTokenValidator(ApiKeyStore keys, IOptions<AuthOptions> options)
{
    public const string ApiKeyClaim = "apikey";

    /// <summary>The <c>aud</c> of a playback token.</summary>
    public const string PlaybackAudience = "playback";

    /// <summary>Playback token lifetime when none is asked for: an hour, a viewing session.</summary>
    public static readonly TimeSpan DefaultPlaybackLifetime = TimeSpan.FromHours(1);

    /// <summary>Longest playback token the API and the CLI mint: a week (a leaked link dies within it).</summary>
    public static readonly TimeSpan MaxPlaybackLifetime = TimeSpan.FromDays(7);

    private static readonly JsonWebTokenHandler s_handler = new() { MaximumTokenSizeInBytes = 8 * 1024 };

    /// <summary>Validates an API token (the value of an API request's <c>Authorization</c> header); playback tokens are refused.</summary>
    public async Task<TokenValidation> ValidateAsync(string? credential, CancellationToken cancellationToken = default)
    {
        var result = await ValidateAnyAsync(credential, cancellationToken);
        return result.IsPlaybackToken
            ? Fail("a playback token opens playback only, not the API: send an API token")
            : result;
    }

    /// <summary>
    /// Validates the credential of a playback request. From a URL only a playback token is accepted; from the header
    /// an API token too. The caller checks the owner (<see cref="TokenValidation.ApiKey"/>) and, for a playback token,
    /// its <see cref="TokenValidation.PlaybackId"/>.
    /// </summary>
    public async Task<TokenValidation> ValidatePlaybackAsync(string? credential, CredentialSource source, CancellationToken cancellationToken = default)
    {
        var result = await ValidateAnyAsync(credential, cancellationToken);
        return result.IsValid && !result.IsPlaybackToken && source == CredentialSource.Url
            ? Fail("an API token is not accepted in a URL: mint a playback token (POST /v1/livestreams/{id}/playback-tokens)")
            : result;
    }

    private async Task<TokenValidation> ValidateAnyAsync(string? credential, CancellationToken cancellationToken)
    {
        var token = Normalize(credential);
        if (token.Length == 0)
        {
            return Fail("missing access token: send it as the Authorization header");
        }

        if (!s_handler.CanReadToken(token))
        {
            return Fail("malformed access token");
        }

        JsonWebToken jwt;
        try
        {
            jwt = s_handler.ReadJsonWebToken(token);
        }
        catch (ArgumentException)
        {
            return Fail("malformed access token");
        }

        if (!jwt.TryGetPayloadValue<string>(ApiKeyClaim, out var apiKey) || string.IsNullOrEmpty(apiKey))
        {
            return Fail("the access token has no apikey claim");
        }

        var playback = IsPlaybackToken(jwt);
        string? playbackId = null;
        if (playback && (!jwt.TryGetPayloadValue<string>(JwtRegisteredClaimNames.Sub, out playbackId) || string.IsNullOrEmpty(playbackId)))
        {
            return Fail("the playback token has no sub (playback id)");
        }

        var key = await keys.FindCachedAsync(apiKey, cancellationToken);
        if (key is null || key.IsRevoked)
        {
            return Fail("unknown or revoked API key");
        }

        var parameters = new TokenValidationParameters
        {
            IssuerSigningKey = SigningKey(key.Secret),
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            RequireSignedTokens = true,
            ValidateIssuerSigningKey = true,
            ValidateIssuer = false,
            ValidateAudience = false, // told apart above: API tokens from the page's snippets carry none
            ValidateLifetime = true,
            RequireExpirationTime = playback || options.Value.RequireExpiration,
            ClockSkew = TimeSpan.FromSeconds(options.Value.ClockSkewSeconds),
        };
        var result = await s_handler.ValidateTokenAsync(jwt, parameters);
        if (!result.IsValid)
        {
            return Fail(result.Exception switch
            {
                SecurityTokenExpiredException => "the access token has expired",
                SecurityTokenNotYetValidException => "the access token is not valid yet",
                SecurityTokenNoExpirationException => playback ? "the playback token has no exp claim" : "the access token has no exp claim, which this server requires",
                SecurityTokenInvalidAlgorithmException => "only HS256 access tokens are accepted",
                SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "invalid signature",
                _ => "invalid access token",
            });
        }

        return new TokenValidation(apiKey, null, playbackId);
    }

    private static bool IsPlaybackToken(JsonWebToken jwt)
    {
        foreach (var audience in jwt.Audiences)
        {
            if (audience == PlaybackAudience)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Makes an API token for <paramref name="apiKey"/> (the CLI's <c>token</c> verb).</summary>
    public static string CreateToken(string apiKey, string secret, TimeSpan? lifetime, TimeProvider time) =>
        Create(apiKey, secret, null, lifetime, time).Token;

    /// <summary>Makes a playback token for <paramref name="playbackId"/>, valid for <paramref name="lifetime"/>; also returns its <c>exp</c>.</summary>
    public static (string Token, DateTimeOffset ExpiresAt) CreatePlaybackToken(string apiKey, string secret, string playbackId, TimeSpan lifetime, TimeProvider time)
    {
        var (token, expires) = Create(apiKey, secret, playbackId, lifetime, time);
        return (token, expires!.Value);
    }

    private static (string Token, DateTimeOffset? ExpiresAt) Create(string apiKey, string secret, string? playbackId, TimeSpan? lifetime, TimeProvider time)
    {
        // Whole seconds, as iat/nbf/exp are written: the expiry the caller reports is the token's.
        var utc = time.GetUtcNow();
        var now = DateTimeOffset.FromUnixTimeSeconds(utc.ToUnixTimeSeconds()).UtcDateTime;
        var claims = new Dictionary<string, object> { [ApiKeyClaim] = apiKey, ["jti"] = Guid.NewGuid().ToString("D") };
        if (playbackId is not null)
        {
            claims[JwtRegisteredClaimNames.Sub] = playbackId;
        }

        DateTime? expires = lifetime is { } l ? now + TimeSpan.FromSeconds(Math.Ceiling(l.TotalSeconds)) : null;
        var descriptor = new SecurityTokenDescriptor
        {
            Claims = claims,
            Audience = playbackId is null ? null : PlaybackAudience,
            IssuedAt = now,
            NotBefore = now,
            Expires = expires,
            SigningCredentials = new SigningCredentials(SigningKey(secret), SecurityAlgorithms.HmacSha256),
        };
        var handler = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false };
        return (handler.CreateToken(descriptor), expires is { } e ? new DateTimeOffset(e, TimeSpan.Zero) : null);
    }

    private static SymmetricSecurityKey SigningKey(string secret) => new(Encoding.UTF8.GetBytes(secret));

    /// <summary>
    /// Accepts <c>Bearer x</c> and the raw token, tolerating the quotes or backticks the product page's
    /// snippets show around the placeholder.
    /// </summary>
    private static string Normalize(string? credential)
    {
        var value = (credential ?? "").Trim();
        if (value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            value = value[7..].Trim();
        }

        return value.Trim('`', '"', '\'', ' ');
    }

    private static TokenValidation Fail(string error) => new(null, error);
}
