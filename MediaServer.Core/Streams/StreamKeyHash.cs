using System.Security.Cryptography;
using System.Text;

namespace MediaServer.Core.Streams;

/// <summary>How a stream key appears in logs: never in full (a log is no place for a publishing credential).</summary>
public static class StreamKeyHash
{
    /// <summary><c>sha256:</c> and the first 8 hex digits of the key's SHA-256: enough to tell two keys apart in a log, not to publish with.</summary>
    public static string Of(string key)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(key), hash);
        return "sha256:" + Convert.ToHexStringLower(hash[..4]);
    }
}
