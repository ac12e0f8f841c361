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

    /// <summary>
    /// An RTMP application name for a log: a short plain name (<c>live</c>) as it is, anything else hashed, since an
    /// encoder set up with the key in its server URL (<c>rtmp://host/live/KEY</c>, empty key) sends the key there.
    /// </summary>
    public static string AppForLog(string? app)
    {
        if (string.IsNullOrEmpty(app))
        {
            return "(none)";
        }

        if (app.Length <= 16 && app.All(static c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
        {
            return app;
        }

        return Of(app);
    }
}
