namespace MediaServer.Tests.Infrastructure;

/// <summary>Hex literals for golden vectors: whitespace and '|' separators are allowed between fields.</summary>
public static class Hex
{
    public static byte[] Parse(string hex)
    {
        var compact = new System.Text.StringBuilder(hex.Length);
        foreach (var c in hex)
        {
            if (!char.IsWhiteSpace(c) && c != '|')
            {
                compact.Append(c);
            }
        }

        return Convert.FromHexString(compact.ToString());
    }

    /// <summary>ASCII bytes as hex (for FourCCs and AMF0 names inside vectors).</summary>
    public static string Ascii(string text) => Convert.ToHexString(System.Text.Encoding.ASCII.GetBytes(text));

    public static string Format(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes);
}
