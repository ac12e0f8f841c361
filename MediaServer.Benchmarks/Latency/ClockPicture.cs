namespace MediaServer.Benchmarks.Latency;

/// <summary>
/// Draws a picture that carries its own capture time: a machine-readable row of 44 blocks (14 × 14 px, white = 1,
/// the Unix time in milliseconds, most significant bit first) across the top, read back by <c>latency.mjs</c> from
/// every presented frame, and a readable clock (HH:MM:SS.mmm, UTC) in the middle for a human or a camera.
/// 8-bit gray, 640 × 360.
/// </summary>
internal static class ClockPicture
{
    public const int Width = 640;
    public const int Height = 360;
    public const int Bits = 44;
    public const int Block = 14;

    // 3 × 5 digits, one row per byte (bit 2 = left column), then ':' and '.'.
    private static readonly byte[][] s_glyphs =
    [
        [7, 5, 5, 5, 7], [2, 6, 2, 2, 7], [7, 1, 7, 4, 7], [7, 1, 7, 1, 7], [5, 5, 7, 1, 1],
        [7, 4, 7, 1, 7], [7, 4, 7, 5, 7], [7, 1, 1, 1, 1], [7, 5, 7, 5, 7], [7, 5, 7, 1, 7],
        [0, 2, 0, 2, 0], [0, 0, 0, 0, 2],
    ];

    /// <summary>Draws the frame for <paramref name="unixMs"/> into <paramref name="frame"/> (Width × Height bytes).</summary>
    public static void Draw(Span<byte> frame, long unixMs)
    {
        frame.Fill(40);
        for (var bit = 0; bit < Bits; bit++)
        {
            var one = ((unixMs >> (Bits - 1 - bit)) & 1) != 0;
            for (var y = 0; y < Block; y++)
            {
                frame.Slice((y * Width) + (bit * Block), Block).Fill(one ? (byte)235 : (byte)16);
            }
        }

        var time = DateTimeOffset.FromUnixTimeMilliseconds(unixMs).UtcDateTime;
        var text = time.ToString("HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture);
        const int scale = 10;
        var x0 = (Width - (text.Length * 4 * scale)) / 2;
        const int y0 = 140;
        for (var i = 0; i < text.Length; i++)
        {
            var glyph = text[i] switch { ':' => s_glyphs[10], '.' => s_glyphs[11], var c => s_glyphs[c - '0'] };
            for (var row = 0; row < 5; row++)
            {
                for (var column = 0; column < 3; column++)
                {
                    if ((glyph[row] & (4 >> column)) == 0)
                    {
                        continue;
                    }

                    for (var dy = 0; dy < scale; dy++)
                    {
                        frame.Slice(((y0 + (row * scale) + dy) * Width) + x0 + (((i * 4) + column) * scale), scale).Fill(235);
                    }
                }
            }
        }
    }

    /// <summary>Reads the clock back from a drawn frame (the decoder's inverse, for tests).</summary>
    public static long Read(ReadOnlySpan<byte> frame)
    {
        long value = 0;
        for (var bit = 0; bit < Bits; bit++)
        {
            value = (value << 1) | (frame[(7 * Width) + (bit * Block) + 7] > 128 ? 1L : 0L);
        }

        return value;
    }
}
