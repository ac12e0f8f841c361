using System.Buffers.Binary;
using System.Text;

namespace MediaServer.Core.Amf;

/// <summary>
/// Decodes AMF0 values (Adobe "AMF 0" spec, 2007) from a span. Complex values are decoded into the value
/// model: <see cref="double"/>, <see cref="bool"/>, <see cref="string"/>, null, <see cref="AmfUndefined"/>,
/// <see cref="AmfUnsupported"/>, <see cref="AmfObject"/>, <see cref="AmfEcmaArray"/>, <c>object?[]</c>
/// (strict array), <see cref="DateTimeOffset"/>, <see cref="AmfXmlDocument"/>, <see cref="AmfTypedObject"/>.
/// </summary>
/// <remarks>
/// Every length and count from the data is checked against <see cref="AmfLimits"/> and the bytes left; the
/// only exception this type throws on bad input is <see cref="AmfException"/>.
/// </remarks>
public ref struct Amf0Reader
{
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly ReadOnlySpan<byte> _data;
    private int _position;
    private int _depth;

    // Complex values in order of appearance, for the Reference marker (AMF0 §2.9); created on first use.
    private List<object>? _references;

    public Amf0Reader(ReadOnlySpan<byte> data)
    {
        _data = data;
    }

    /// <summary>Bytes not read yet.</summary>
    public readonly int Remaining => _data.Length - _position;

    /// <summary>Bytes read so far.</summary>
    public readonly int Consumed => _position;

    public readonly bool IsEmpty => _position >= _data.Length;

    /// <summary>The bytes not read yet.</summary>
    public readonly ReadOnlySpan<byte> RemainingSpan => _data[_position..];

    /// <summary>The marker of the next value, or null at the end.</summary>
    public readonly Amf0Marker? PeekMarker() => IsEmpty ? null : (Amf0Marker)_data[_position];

    /// <summary>Reads one value of any type.</summary>
    public object? ReadValue()
    {
        var marker = (Amf0Marker)ReadByte();
        switch (marker)
        {
            case Amf0Marker.Number:
                return ReadDoubleRaw();
            case Amf0Marker.Boolean:
                return ReadByte() != 0;
            case Amf0Marker.String:
                return ReadUtf8(ReadUInt16());
            case Amf0Marker.LongString:
                return ReadUtf8(ReadUInt32Length());
            case Amf0Marker.Null:
                return null;
            case Amf0Marker.Undefined:
                return AmfUndefined.Instance;
            case Amf0Marker.Unsupported:
                return AmfUnsupported.Instance;
            case Amf0Marker.Object:
                {
                    var obj = new AmfObject();
                    Remember(obj);
                    ReadProperties(obj);
                    return obj;
                }

            case Amf0Marker.TypedObject:
                {
                    var obj = new AmfTypedObject(ReadUtf8(ReadUInt16()));
                    Remember(obj);
                    ReadProperties(obj);
                    return obj;
                }

            case Amf0Marker.EcmaArray:
                {
                    // The count is only a hint (encoders get it wrong); the object-end marker terminates.
                    _ = ReadUInt32Length();
                    var array = new AmfEcmaArray();
                    Remember(array);
                    ReadProperties(array, endOptional: true);
                    return array;
                }

            case Amf0Marker.StrictArray:
                return ReadStrictArray();
            case Amf0Marker.Date:
                {
                    var ms = ReadDoubleRaw();
                    _ = ReadUInt16(); // time-zone: reserved, should be 0 (§2.13)
                    if (!double.IsFinite(ms) || ms < -62135596800000d || ms > 253402300799999d)
                    {
                        AmfException.Throw(AmfError.UnexpectedType);
                    }

                    return DateTimeOffset.FromUnixTimeMilliseconds((long)ms);
                }

            case Amf0Marker.XmlDocument:
                return new AmfXmlDocument(ReadUtf8(ReadUInt32Length()));
            case Amf0Marker.Reference:
                {
                    var index = ReadUInt16();
                    if (_references is null || index >= _references.Count)
                    {
                        AmfException.Throw(AmfError.InvalidReference);
                    }

                    return _references[index];
                }

            case Amf0Marker.AvmPlusObject:
                return ReadAmf3Value();
            case Amf0Marker.MovieClip:
            case Amf0Marker.RecordSet:
                AmfException.Throw(AmfError.ReservedMarker);
                return null;
            case Amf0Marker.ObjectEnd:
                AmfException.Throw(AmfError.UnexpectedType);
                return null;
            default:
                AmfException.Throw(AmfError.UnknownMarker);
                return null;
        }
    }

    /// <summary>Reads a Number value; throws <see cref="AmfException"/> if the next value is not one.</summary>
    public double ReadNumber()
    {
        Expect(Amf0Marker.Number);
        return ReadDoubleRaw();
    }

    /// <summary>Reads a Number if the next value is one.</summary>
    public bool TryReadNumber(out double value)
    {
        if (PeekMarker() != Amf0Marker.Number)
        {
            value = 0;
            return false;
        }

        value = ReadNumber();
        return true;
    }

    /// <summary>Reads a String or Long String if the next value is one.</summary>
    public bool TryReadString(out string value)
    {
        if (!TryReadStringBytes(out var bytes))
        {
            value = string.Empty;
            return false;
        }

        value = DecodeUtf8(bytes);
        return true;
    }

    /// <summary>Reads a String or Long String as raw UTF-8 (to match names without allocating).</summary>
    public bool TryReadStringBytes(out ReadOnlySpan<byte> utf8)
    {
        var marker = PeekMarker();
        if (marker == Amf0Marker.String)
        {
            _position++;
            utf8 = ReadBytes(ReadUInt16());
            return true;
        }

        if (marker == Amf0Marker.LongString)
        {
            _position++;
            utf8 = ReadBytes(ReadUInt32Length());
            return true;
        }

        utf8 = default;
        return false;
    }

    /// <summary>Reads a String or Long String; throws if the next value is something else.</summary>
    public string ReadString()
    {
        if (!TryReadString(out var value))
        {
            AmfException.Throw(IsEmpty ? AmfError.Truncated : AmfError.UnexpectedType);
        }

        return value;
    }

    /// <summary>Skips a Null or Undefined if the next value is one.</summary>
    public bool TryReadNull()
    {
        var marker = PeekMarker();
        if (marker is Amf0Marker.Null or Amf0Marker.Undefined)
        {
            _position++;
            return true;
        }

        return false;
    }

    private void Expect(Amf0Marker marker)
    {
        var actual = PeekMarker();
        if (actual is null)
        {
            AmfException.Throw(AmfError.Truncated);
        }

        if (actual != marker)
        {
            AmfException.Throw(AmfError.UnexpectedType);
        }

        _position++;
    }

    private void Remember(object value)
    {
        _references ??= [];
        _references.Add(value);
    }

    private void Enter()
    {
        if (++_depth > AmfLimits.MaxDepth)
        {
            AmfException.Throw(AmfError.NestingTooDeep);
        }
    }

    private void ReadProperties(AmfObject target, bool endOptional = false)
    {
        Enter();
        while (true)
        {
            // Some encoders end an ECMA array (onMetaData) at the end of the data without the object-end marker.
            if (endOptional && _position == _data.Length)
            {
                break;
            }

            var keyLength = ReadUInt16();
            if (keyLength == 0 && _position < _data.Length && _data[_position] == (byte)Amf0Marker.ObjectEnd)
            {
                _position++;
                break;
            }

            if (target.Count >= AmfLimits.MaxElementCount)
            {
                AmfException.Throw(AmfError.TooManyElements);
            }

            var key = ReadUtf8(keyLength);
            target.Add(key, ReadValue());
        }

        _depth--;
    }

    private object?[] ReadStrictArray()
    {
        var count = ReadUInt32Length();

        // Each element takes at least one byte: a count beyond what is left is a lie, refuse before allocating.
        if (count > AmfLimits.MaxElementCount)
        {
            AmfException.Throw(AmfError.TooManyElements);
        }

        if (count > Remaining)
        {
            AmfException.Throw(AmfError.Truncated);
        }

        Enter();
        var array = new object?[count];
        Remember(array);
        for (var i = 0; i < array.Length; i++)
        {
            array[i] = ReadValue();
        }

        _depth--;
        return array;
    }

    // AMF3 (the AVM+ switch, AMF0 §3.1): decode only the scalar types; containers and references fail clearly.
    private object? ReadAmf3Value()
    {
        var marker = ReadByte();
        switch (marker)
        {
            case 0x00: return AmfUndefined.Instance;
            case 0x01: return null;
            case 0x02: return false;
            case 0x03: return true;
            case 0x04:
                {
                    // U29 integer, sign-extended from 29 bits.
                    var u = ReadU29();
                    return (double)((int)(u << 3) >> 3);
                }

            case 0x05: return ReadDoubleRaw();
            case 0x06:
                {
                    var header = ReadU29();
                    if ((header & 1) == 0)
                    {
                        AmfException.Throw(AmfError.Amf3NotSupported, "AMF3 string references are not supported.");
                    }

                    return ReadUtf8((int)(header >> 1));
                }

            default:
                AmfException.Throw(AmfError.Amf3NotSupported, $"AMF3 value type 0x{marker:X2} is not supported.");
                return null;
        }
    }

    private uint ReadU29()
    {
        uint value = 0;
        for (var i = 0; i < 3; i++)
        {
            var b = ReadByte();
            value = (value << 7) | (uint)(b & 0x7F);
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }

        return (value << 8) | ReadByte();
    }

    private byte ReadByte()
    {
        if (_position >= _data.Length)
        {
            AmfException.Throw(AmfError.Truncated);
        }

        return _data[_position++];
    }

    private ushort ReadUInt16() => BinaryPrimitives.ReadUInt16BigEndian(ReadBytes(2));

    // A 32-bit length or count; anything above int.MaxValue is already over every limit.
    private int ReadUInt32Length()
    {
        var value = BinaryPrimitives.ReadUInt32BigEndian(ReadBytes(4));
        return value > int.MaxValue ? int.MaxValue : (int)value;
    }

    private double ReadDoubleRaw() => BinaryPrimitives.ReadDoubleBigEndian(ReadBytes(8));

    private ReadOnlySpan<byte> ReadBytes(int count)
    {
        if (count > _data.Length - _position)
        {
            AmfException.Throw(AmfError.Truncated);
        }

        var span = _data.Slice(_position, count);
        _position += count;
        return span;
    }

    private string ReadUtf8(int length)
    {
        if (length > AmfLimits.MaxStringLength)
        {
            AmfException.Throw(AmfError.StringTooLong);
        }

        return DecodeUtf8(ReadBytes(length));
    }

    private static string DecodeUtf8(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > AmfLimits.MaxStringLength)
        {
            AmfException.Throw(AmfError.StringTooLong);
        }

        try
        {
            return s_strictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            AmfException.Throw(AmfError.InvalidUtf8);
            return null;
        }
    }
}
