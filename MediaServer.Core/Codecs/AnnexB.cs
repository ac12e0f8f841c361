using System.Buffers;

namespace MediaServer.Core.Codecs;

/// <summary>
/// Conversion of length-prefixed (AVCC/HVCC) access units to the Annex B byte stream (H.264 Annex B,
/// H.265 Annex B): each NAL unit preceded by the 4-byte start code <c>00 00 00 01</c>.
/// </summary>
public static class AnnexB
{
    /// <summary>The 4-byte start code written before every NAL unit.</summary>
    public static ReadOnlySpan<byte> StartCode => [0, 0, 0, 1];

    /// <summary>Size of the Annex B form of an access unit, validating every length on the way.</summary>
    /// <exception cref="CodecException">A NAL length lies, or too many NAL units.</exception>
    public static int GetConvertedLength(ReadOnlySpan<byte> accessUnit, int nalUnitLengthSize)
    {
        var reader = new LengthPrefixedNalReader(accessUnit, nalUnitLengthSize);
        var length = 0;
        while (reader.TryRead(out var nal))
        {
            length += StartCode.Length + nal.Length;
        }

        return length;
    }

    /// <summary>Writes the Annex B form of an access unit. Nothing is written if a length lies.</summary>
    /// <returns>The number of bytes written.</returns>
    /// <exception cref="CodecException">A NAL length lies, or too many NAL units.</exception>
    public static int Convert(ReadOnlySpan<byte> accessUnit, int nalUnitLengthSize, IBufferWriter<byte> output)
    {
        // Validate and size first so a lying length leaves the output untouched.
        var length = GetConvertedLength(accessUnit, nalUnitLengthSize);
        var span = output.GetSpan(length);
        var reader = new LengthPrefixedNalReader(accessUnit, nalUnitLengthSize);
        var offset = 0;
        while (reader.TryRead(out var nal))
        {
            StartCode.CopyTo(span[offset..]);
            nal.CopyTo(span[(offset + StartCode.Length)..]);
            offset += StartCode.Length + nal.Length;
        }

        output.Advance(length);
        return length;
    }
}
