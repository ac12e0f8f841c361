using MediaServer.Host.Auth;
using MediaServer.Host.Data;
using MediaServer.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace MediaServer.Tests.Auth;

/// <summary>
/// Every token shape the product page's five snippets make is accepted; every forgery is refused.
/// </summary>
public class AccessTokenValidatorTests
{
    private string _directory = null!;
    private ApiKeyStore _keys = null!;
    private ApiKeyRecord _key = null!;

    [SetUp]
    public async Task SetUp()
    {
        _directory = Path.Combine(Path.GetTempPath(), "mediaserver-auth-" + Guid.NewGuid().ToString("N"));
        var database = new Database(_directory);
        await database.MigrateAsync();
        _keys = new ApiKeyStore(database, TimeProvider.System);
        _key = await _keys.CreateAsync("test");
    }

    [TearDown]
    public void TearDown()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private AccessTokenValidator Validator(bool requireExpiration = false) =>
        new(_keys, Options.Create(new AuthOptions { RequireExpiration = requireExpiration }));

    private static string Q(string s) => "\"" + s + "\"";

    /// <summary>The shapes of the page's generators: (header JSON, payload JSON) with {K} for the API key.</summary>
    public static IEnumerable<TestCaseData> PageTokenShapes()
    {
        var jti = Guid.NewGuid().ToString("D");
        // Node jsonwebtoken: jwt.sign({apikey}, secret, {algorithm: "HS256", expiresIn: "24h", jwtid: uuid4()})
        yield return new TestCaseData("""{"alg":"HS256","typ":"JWT"}""",
            $$"""{"apikey":"{K}","iat":{{Jwt.Now()}},"exp":{{Jwt.Now(86400)}},"jti":"{{jti}}"}""").SetName("NodeJsonwebtoken_IsAccepted");
        // Python PyJWT: jwt.encode(payload={'apikey': api_key}, key=secret_key)  (HS256 by default, no exp)
        yield return new TestCaseData("""{"alg":"HS256","typ":"JWT"}""", """{"apikey":"{K}"}""").SetName("PythonPyJwt_IsAccepted");
        // Java jjwt: setClaims + setId + setExpiration(+24h) + setIssuedAt(-60 s) + setNotBefore(now), HS256 over getBytes(); no typ.
        yield return new TestCaseData("""{"alg":"HS256"}""",
            $$"""{"apikey":"{K}","jti":"{{jti}}","exp":{{Jwt.Now(86400)}},"iat":{{Jwt.Now(-60)}},"nbf":{{Jwt.Now()}}}""").SetName("JavaJjwt_IsAccepted");
        // Ruby jwt: JWT.encode({apikey: $api_key}, $secret_key, 'HS256')
        yield return new TestCaseData("""{"alg":"HS256"}""", """{"apikey":"{K}"}""").SetName("RubyJwt_IsAccepted");
        // PHP firebase/php-jwt: JWT::encode(['apikey' => $api_key], $secret_key, 'HS256')
        yield return new TestCaseData("""{"typ":"JWT","alg":"HS256"}""", """{"apikey":"{K}"}""").SetName("PhpFirebaseJwt_IsAccepted");
    }

    [TestCaseSource(nameof(PageTokenShapes))]
    public async Task PageToken(string header, string payload)
    {
        var token = Jwt.Sign(header, payload.Replace("{K}", _key.ApiKey, StringComparison.Ordinal), _key.Secret);

        var raw = await Validator().ValidateAsync(token);
        var bearer = await Validator().ValidateAsync("Bearer " + token);

        Assert.That(raw.IsValid, Is.True, raw.Error);
        Assert.That(raw.ApiKey, Is.EqualTo(_key.ApiKey));
        Assert.That(bearer.IsValid, Is.True, bearer.Error);
    }

    [Test]
    public async Task TokenFromCli_IsAccepted()
    {
        var token = AccessTokenValidator.CreateToken(_key.ApiKey, _key.Secret, TimeSpan.FromHours(24), TimeProvider.System);
        Assert.That((await Validator(requireExpiration: true).ValidateAsync(token)).IsValid, Is.True);
    }

    public static IEnumerable<TestCaseData> Forgeries()
    {
        yield return new TestCaseData("""{"alg":"none","typ":"JWT"}""", """{"apikey":"{K}"}""", "none", "{S}").SetName("AlgNone_IsRefused");
        yield return new TestCaseData("""{"alg":"HS512","typ":"JWT"}""", """{"apikey":"{K}"}""", "HS512", "{S}").SetName("OtherHmacAlgorithm_IsRefused");
        yield return new TestCaseData("""{"alg":"RS256","typ":"JWT"}""", """{"apikey":"{K}"}""", "RS256", "{S}").SetName("RsaAlgorithm_IsRefused");
        yield return new TestCaseData("""{"alg":"HS256","typ":"JWT"}""", """{"apikey":"{K}"}""", "HS256", "wrong-secret-wrong-secret-wrong-secret!!").SetName("WrongSignature_IsRefused");
        yield return new TestCaseData("""{"alg":"HS256","typ":"JWT"}""", $$"""{"apikey":"{K}","exp":{{Jwt.Now(-3600)}}}""", "HS256", "{S}").SetName("Expired_IsRefused");
        yield return new TestCaseData("""{"alg":"HS256","typ":"JWT"}""", $$"""{"apikey":"{K}","nbf":{{Jwt.Now(3600)}}}""", "HS256", "{S}").SetName("NotYetValid_IsRefused");
        yield return new TestCaseData("""{"alg":"HS256","typ":"JWT"}""", """{"apikey":"no-such-key"}""", "HS256", "{S}").SetName("UnknownKey_IsRefused");
        yield return new TestCaseData("""{"alg":"HS256","typ":"JWT"}""", """{"sub":"{K}"}""", "HS256", "{S}").SetName("MissingApikeyClaim_IsRefused");
        yield return new TestCaseData("""{"alg":"HS256","typ":"JWT"}""", """{"apikey":42}""", "HS256", "{S}").SetName("NonStringApikeyClaim_IsRefused");
    }

    [TestCaseSource(nameof(Forgeries))]
    public async Task Forged(string header, string payload, string algorithm, string secret)
    {
        var token = Jwt.Sign(header, payload.Replace("{K}", _key.ApiKey, StringComparison.Ordinal), secret.Replace("{S}", _key.Secret, StringComparison.Ordinal), algorithm);
        var result = await Validator().ValidateAsync(token);
        Assert.That(result.IsValid, Is.False);
        Assert.That(result.Error, Is.Not.Empty);
    }

    [TestCase("")]
    [TestCase("Bearer ")]
    [TestCase("not a token")]
    [TestCase("a.b.c")]
    [TestCase("eyJhbGciOiJIUzI1NiJ9.!!!.xyz")]
    [TestCase("eyJhbGciOiJIUzI1NiJ9")]
    public async Task Malformed_IsRefused(string credential)
    {
        var result = await Validator().ValidateAsync(credential);
        Assert.That(result.IsValid, Is.False);
    }

    [Test]
    public async Task RevokedKey_IsRefused()
    {
        var token = Jwt.Sign("""{"alg":"HS256","typ":"JWT"}""", $$"""{"apikey":"{{_key.ApiKey}}"}""", _key.Secret);
        Assert.That((await Validator().ValidateAsync(token)).IsValid, Is.True);
        await _keys.RevokeAsync(_key.ApiKey);
        Assert.That((await Validator().ValidateAsync(token)).IsValid, Is.False);
    }

    [Test]
    public async Task NoExpiration_WhenRequired_IsRefused()
    {
        var token = Jwt.Sign("""{"alg":"HS256","typ":"JWT"}""", $$"""{"apikey":"{{_key.ApiKey}}"}""", _key.Secret);
        Assert.That((await Validator(requireExpiration: false).ValidateAsync(token)).IsValid, Is.True);
        Assert.That((await Validator(requireExpiration: true).ValidateAsync(token)).IsValid, Is.False);
    }

    private string Playback(string playbackId, int expiresIn = 600, string audience = "playback") =>
        Jwt.Sign("""{"alg":"HS256","typ":"JWT"}""",
            $$"""{"apikey":"{{_key.ApiKey}}","aud":"{{audience}}","sub":"{{playbackId}}","exp":{{Jwt.Now(expiresIn)}}}""", _key.Secret);

    [Test]
    public async Task PlaybackToken_OpensPlaybackInHeaderAndUrl_NeverTheApi()
    {
        var token = Playback("p1");
        var header = await Validator().ValidatePlaybackAsync(token, CredentialSource.Header);
        var url = await Validator().ValidatePlaybackAsync(token, CredentialSource.Url);
        var api = await Validator().ValidateAsync(token);
        Assert.Multiple(() =>
        {
            Assert.That(header.IsValid && header.PlaybackId == "p1" && header.ApiKey == _key.ApiKey, Is.True, header.Error);
            Assert.That(url.IsValid && url.PlaybackId == "p1", Is.True, url.Error);
            Assert.That(api.IsValid, Is.False);
            Assert.That(api.Error, Does.Contain("playback token"));
        });
    }

    [Test]
    public async Task ApiToken_OpensPlaybackInTheHeaderOnly()
    {
        var token = Jwt.Sign("""{"alg":"HS256","typ":"JWT"}""", $$"""{"apikey":"{{_key.ApiKey}}"}""", _key.Secret);
        var header = await Validator().ValidatePlaybackAsync(token, CredentialSource.Header);
        var url = await Validator().ValidatePlaybackAsync("Bearer " + token, CredentialSource.Url);
        Assert.That(header.IsValid && !header.IsPlaybackToken, Is.True, header.Error);
        Assert.That(url.IsValid, Is.False);
        Assert.That(url.Error, Does.Contain("URL"));
    }

    [Test]
    public async Task PlaybackToken_WithoutExpOrSub_OrExpired_IsRefused()
    {
        var noExp = Jwt.Sign("""{"alg":"HS256"}""", $$"""{"apikey":"{{_key.ApiKey}}","aud":"playback","sub":"p1"}""", _key.Secret);
        var noSub = Jwt.Sign("""{"alg":"HS256"}""", $$"""{"apikey":"{{_key.ApiKey}}","aud":"playback","exp":{{Jwt.Now(600)}}}""", _key.Secret);
        foreach (var token in new[] { noExp, noSub, Playback("p1", expiresIn: -3600) })
        {
            Assert.That((await Validator(requireExpiration: false).ValidatePlaybackAsync(token, CredentialSource.Url)).IsValid, Is.False, token);
        }
    }

    [Test]
    public async Task PlaybackTokenFromCreate_IsAccepted_WithItsExpiry()
    {
        var (token, expiresAt) = AccessTokenValidator.CreatePlaybackToken(_key.ApiKey, _key.Secret, "p9", TimeSpan.FromMinutes(5), TimeProvider.System);
        var result = await Validator().ValidatePlaybackAsync(token, CredentialSource.Url);
        Assert.That(result.PlaybackId, Is.EqualTo("p9"), result.Error);
        Assert.That(expiresAt - DateTimeOffset.UtcNow, Is.InRange(TimeSpan.FromMinutes(4), TimeSpan.FromMinutes(5)));
    }
}
