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
public readonly record struct TokenValidation(string? ApiKey, string? Error)
{
    public bool IsValid => ApiKey is not null;
}

/// <summary>
/// Validates access tokens as the product page makes them: HS256 JWTs with an <c>apikey</c> claim, signed
/// with that key's secret (the secret's UTF-8 bytes, as jsonwebtoken, PyJWT, jjwt, ruby-jwt and php-jwt use
/// it). Sent as the raw <c>Authorization</c> value or as <c>Bearer &lt;token&gt;</c>.
/// </summary>
public sealed class AccessTokenValidator(ApiKeyStore keys, IOptions<AuthOptions> options)
{
    public const string ApiKeyClaim = "apikey";
    private static readonly JsonWebTokenHandler s_handler = new() { MaximumTokenSizeInBytes = 8 * 1024 };

    /// <summary>Validates the value of an <c>Authorization</c> header or a <c>token</c> query parameter.</summary>
    public async Task<TokenValidation> ValidateAsync(string? credential, CancellationToken cancellationToken = default)
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
            ValidateAudience = false,
            ValidateLifetime = true,
            RequireExpirationTime = options.Value.RequireExpiration,
            ClockSkew = TimeSpan.FromSeconds(options.Value.ClockSkewSeconds),
        };
        var result = await s_handler.ValidateTokenAsync(jwt, parameters);
        if (!result.IsValid)
        {
            return Fail(result.Exception switch
            {
                SecurityTokenExpiredException => "the access token has expired",
                SecurityTokenNotYetValidException => "the access token is not valid yet",
                SecurityTokenNoExpirationException => "the access token has no exp claim, which this server requires",
                SecurityTokenInvalidAlgorithmException => "only HS256 access tokens are accepted",
                SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "invalid signature",
                _ => "invalid access token",
            });
        }

        return new TokenValidation(apiKey, null);
    }

    /// <summary>Makes an access token for <paramref name="apiKey"/> (the CLI's <c>token</c> verb).</summary>
    public static string CreateToken(string apiKey, string secret, TimeSpan? lifetime, TimeProvider time)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var descriptor = new SecurityTokenDescriptor
        {
            Claims = new Dictionary<string, object> { [ApiKeyClaim] = apiKey, ["jti"] = Guid.NewGuid().ToString("D") },
            IssuedAt = now,
            NotBefore = now,
            Expires = lifetime is { } l ? now + l : null,
            SigningCredentials = new SigningCredentials(SigningKey(secret), SecurityAlgorithms.HmacSha256),
        };
        var handler = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false };
        return handler.CreateToken(descriptor);
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
