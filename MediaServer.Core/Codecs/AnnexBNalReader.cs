namespace MediaServer.Core.Codecs;

/// <summary>
/// Walks the NAL units of an Annex B byte stream (H.264 Annex B, H.265 Annex B §B.2): each NAL unit preceded by a
/// start code <c>00 00 01</c> (or <c>00 00 00 01</c>), the counterpart of <see cref="AnnexB.Convert"/>.
/// </summary>
/// <remarks>
/// <code>
/// [leading_zero_8bits]* 00 00 01 NAL unit [trailing_zero_8bits]* 00 00 01 NAL unit ...
/// </code>
/// Bytes before the first start code are skipped; the zero bytes before a start code (its <c>zero_byte</c> and any
/// trailing_zero_8bits) are not part of the NAL unit before it (a NAL unit never ends in 00: H.265 §7.4.2,
/// rbsp_trailing_bits). Emulation prevention guarantees <c>00 00 01</c> never occurs inside a NAL unit. Empty
/// units (two start codes in a row) are skipped. The input is whole in memory, so nothing here buffers.
/// </remarks>
public ref struct AnnexBNalReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _offset; // start of the next NAL unit's bytes, or -1 before the first start code was found

    public AnnexBNalReader(ReadOnlySpan<byte> stream)
    {
        _data = stream;
        var first = FindStartCode(stream, 0);
        _offset = first < 0 ? stream.Length : first + 3;
    }

    /// <summary>Reads the next non-empty NAL unit (header bytes included); false at the end of the stream.</summary>
    public bool TryRead(out ReadOnlySpan<byte> nalUnit)
    {
        while (_offset < _data.Length)
        {
            var next = FindStartCode(_data, _offset);
            var end = next < 0 ? _data.Length : next;
            var start = _offset;
            _offset = next < 0 ? _data.Length : next + 3;
            while (end > start && _data[end - 1] == 0)
            {
                end--;
            }

            if (end > start)
            {
                nalUnit = _data[start..end];
                return true;
            }
        }

        nalUnit = default;
        return false;
    }

    /// <summary>Index of the next <c>00 00 01</c> at or after <paramref name="from"/>, or -1.</summary>
    private static int FindStartCode(ReadOnlySpan<byte> data, int from)
    {
        var found = data[from..].IndexOf((ReadOnlySpan<byte>)[0, 0, 1]);
        return found < 0 ? -1 : from + found;
    }
}
