namespace MediaServer.Core.Codecs;

/// <summary>
/// Walks the NAL units of an AVCC/HVCC access unit: each NAL unit preceded by a big-endian length of
/// 1, 2 or 4 bytes (ISO/IEC 14496-15 §5.3.2 / §8.3.2, the FLV/RTMP layout).
/// </summary>
/// <remarks>
/// <code>
/// [length (NalUnitLengthSize bytes, big-endian)][NAL unit (length bytes)] ...repeated to the end
/// </code>
/// A length that runs past the end of the access unit, a truncated length field, or more than
/// <see cref="MaxNalUnitsPerAccessUnit"/> units throws <see cref="CodecException"/>. Empty NAL units are skipped.
/// </remarks>
public ref struct LengthPrefixedNalReader
{
    /// <summary>
    /// Most NAL units per access unit we accept. Encoders emit a handful (AUD, SEI, parameter sets, a few slices;
    /// heavily sliced streams dozens); 1024 bounds the work a hostile frame of 1-byte units can cause.
    /// </summary>
    public const int MaxNalUnitsPerAccessUnit = 1024;

    private readonly ReadOnlySpan<byte> _data;
    private readonly int _lengthSize;
    private int _offset;
    private int _count;

    public LengthPrefixedNalReader(ReadOnlySpan<byte> accessUnit, int nalUnitLengthSize)
    {
        if (nalUnitLengthSize is not (1 or 2 or 4))
        {
            CodecThrow.Throw(CodecError.InvalidValue, "NAL unit length size must be 1, 2 or 4.");
        }

        _data = accessUnit;
        _lengthSize = nalUnitLengthSize;
    }

    /// <summary>Reads the next non-empty NAL unit; false at the end of the access unit.</summary>
    public bool TryRead(out ReadOnlySpan<byte> nalUnit)
    {
        while (_offset < _data.Length)
        {
            if (_data.Length - _offset < _lengthSize)
            {
                CodecThrow.Throw(CodecError.Truncated, "Access unit ends inside a NAL unit length.");
            }

            uint length = 0;
            for (var i = 0; i < _lengthSize; i++)
            {
                length = (length << 8) | _data[_offset + i];
            }

            _offset += _lengthSize;
            if (length > (uint)(_data.Length - _offset))
            {
                CodecThrow.Throw(CodecError.InvalidLength, "NAL unit length runs past the end of the access unit.");
            }

            if (++_count > MaxNalUnitsPerAccessUnit)
            {
                CodecThrow.Throw(CodecError.TooMany, "Too many NAL units in one access unit.");
            }

            if (length == 0)
            {
                continue;
            }

            nalUnit = _data.Slice(_offset, (int)length);
            _offset += (int)length;
            return true;
        }

        nalUnit = default;
        return false;
    }
}
