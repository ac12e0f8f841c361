using System.Security.Cryptography;
using System.Text;

namespace MediaServer.Tests.Infrastructure;

/// <summary>
/// Builds JWTs byte for byte the way the token libraries of the product page do, independently of the
/// server's own JWT library: header and payload JSON are given as text so their exact shapes are tested.
/// </summary>
internal static class Jwt
{
    public static string Sign(string headerJson, string payloadJson, string secret, string algorithm = "HS256")
    {
        var signingInput = Base64Url(Encoding.UTF8.GetBytes(headerJson)) + "." + Base64Url(Encoding.UTF8.GetBytes(payloadJson));
        var key = Encoding.UTF8.GetBytes(secret);
        var input = Encoding.ASCII.GetBytes(signingInput);
        var signature = algorithm switch
        {
            "HS256" => HMACSHA256.HashData(key, input),
            "HS384" => HMACSHA384.HashData(key, input),
            "HS512" => HMACSHA512.HashData(key, input),
            "none" => [],
            _ => RandomNumberGenerator.GetBytes(256),
        };
        return signingInput + "." + Base64Url(signature);
    }

    public static long Now(int offsetSeconds = 0) => DateTimeOffset.UtcNow.ToUnixTimeSeconds() + offsetSeconds;

    public static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
