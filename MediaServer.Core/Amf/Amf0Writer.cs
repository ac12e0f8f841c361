using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace MediaServer.Core.Amf;

/// <summary>Encodes AMF0 values (Adobe "AMF 0" spec, 2007) into an <see cref="IBufferWriter{T}"/>.</summary>
public ref struct Amf0Writer
{
    private readonly IBufferWriter<byte> _output;
    private int _depth;

    public Amf0Writer(IBufferWriter<byte> output)
    {
        _output = output;
    }

    public readonly void WriteNumber(double value)
    {
        var span = _output.GetSpan(9);
        span[0] = (byte)Amf0Marker.Number;
        BinaryPrimitives.WriteDoubleBigEndian(span[1..], value);
        _output.Advance(9);
    }

    public readonly void WriteBoolean(bool value)
    {
        var span = _output.GetSpan(2);
        span[0] = (byte)Amf0Marker.Boolean;
        span[1] = value ? (byte)1 : (byte)0;
        _output.Advance(2);
    }

    /// <summary>Writes a String, or a Long String when the UTF-8 form exceeds 65535 bytes.</summary>
    public readonly void WriteString(string value) => WriteString(value.AsSpan());

    /// <summary>Writes a String, or a Long String when the UTF-8 form exceeds 65535 bytes.</summary>
    public readonly void WriteString(ReadOnlySpan<char> value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        if (length <= ushort.MaxValue)
        {
            WriteMarker(Amf0Marker.String);
            WriteUtf8Short(value, length);
        }
        else
        {
            WriteMarker(Amf0Marker.LongString);
            WriteUtf8Long(value, length);
        }
    }

    /// <summary>Writes a String from UTF-8 bytes (e.g. <c>"_result"u8</c>).</summary>
    public readonly void WriteString(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length <= ushort.MaxValue)
        {
            var span = _output.GetSpan(3 + utf8.Length);
            span[0] = (byte)Amf0Marker.String;
            BinaryPrimitives.WriteUInt16BigEndian(span[1..], (ushort)utf8.Length);
            utf8.CopyTo(span[3..]);
            _output.Advance(3 + utf8.Length);
        }
        else
        {
            var span = _output.GetSpan(5 + utf8.Length);
            span[0] = (byte)Amf0Marker.LongString;
            BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)utf8.Length);
            utf8.CopyTo(span[5..]);
            _output.Advance(5 + utf8.Length);
        }
    }

    public readonly void WriteNull() => WriteMarker(Amf0Marker.Null);

    public readonly void WriteUndefined() => WriteMarker(Amf0Marker.Undefined);

    public readonly void WriteUnsupported() => WriteMarker(Amf0Marker.Unsupported);

    public void WriteObject(AmfObject value)
    {
        if (value is AmfEcmaArray array)
        {
            WriteEcmaArray(array);
            return;
        }

        if (value is AmfTypedObject typed)
        {
            WriteMarker(Amf0Marker.TypedObject);
            var length = Encoding.UTF8.GetByteCount(typed.ClassName);
            CheckShortString(length);
            WriteUtf8Short(typed.ClassName, length);
        }
        else
        {
            WriteMarker(Amf0Marker.Object);
        }

        WriteProperties(value);
    }

    public void WriteEcmaArray(AmfObject value)
    {
        var span = _output.GetSpan(5);
        span[0] = (byte)Amf0Marker.EcmaArray;
        BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)value.Count);
        _output.Advance(5);
        WriteProperties(value);
    }

    public void WriteStrictArray(ReadOnlySpan<object?> values)
    {
        Enter();
        var span = _output.GetSpan(5);
        span[0] = (byte)Amf0Marker.StrictArray;
        BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)values.Length);
        _output.Advance(5);
        foreach (var value in values)
        {
            WriteValue(value);
        }

        _depth--;
    }

    /// <summary>Writes a Date: milliseconds since the Unix epoch as a double, time zone 0 (AMF0 §2.13).</summary>
    public readonly void WriteDate(DateTimeOffset value)
    {
        var span = _output.GetSpan(11);
        span[0] = (byte)Amf0Marker.Date;
        BinaryPrimitives.WriteDoubleBigEndian(span[1..], value.ToUnixTimeMilliseconds());
        BinaryPrimitives.WriteInt16BigEndian(span[9..], 0);
        _output.Advance(11);
    }

    public readonly void WriteXmlDocument(AmfXmlDocument value)
    {
        WriteMarker(Amf0Marker.XmlDocument);
        WriteUtf8Long(value.Xml, Encoding.UTF8.GetByteCount(value.Xml));
    }

    /// <summary>Writes any value of the model (numbers of any CLR numeric type are written as Number).</summary>
    public void WriteValue(object? value)
    {
        switch (value)
        {
            case null: WriteNull(); break;
            case double d: WriteNumber(d); break;
            case bool b: WriteBoolean(b); break;
            case string s: WriteString(s); break;
            case AmfObject o: WriteObject(o); break;
            case object?[] array: WriteStrictArray(array); break;
            case DateTimeOffset date: WriteDate(date); break;
            case AmfUndefined: WriteUndefined(); break;
            case AmfUnsupported: WriteUnsupported(); break;
            case AmfXmlDocument xml: WriteXmlDocument(xml); break;
            case int i: WriteNumber(i); break;
            case uint u: WriteNumber(u); break;
            case long l: WriteNumber(l); break;
            case float f: WriteNumber(f); break;
            case short sh: WriteNumber(sh); break;
            case ushort us: WriteNumber(us); break;
            case byte by: WriteNumber(by); break;
            default:
                throw new AmfException(AmfError.UnsupportedValueType, $"Cannot write a {value.GetType().Name} as AMF0.");
        }
    }

    private void WriteProperties(AmfObject value)
    {
        Enter();
        foreach (var property in value.Properties)
        {
            var length = Encoding.UTF8.GetByteCount(property.Key);
            CheckShortString(length);
            WriteUtf8Short(property.Key, length);
            WriteValue(property.Value);
        }

        // Object end: empty key then the ObjectEnd marker.
        var span = _output.GetSpan(3);
        span[0] = 0;
        span[1] = 0;
        span[2] = (byte)Amf0Marker.ObjectEnd;
        _output.Advance(3);
        _depth--;
    }

    private void Enter()
    {
        // Also catches cycles in the value graph.
        if (++_depth > AmfLimits.MaxDepth)
        {
            AmfException.Throw(AmfError.NestingTooDeep);
        }
    }

    private static void CheckShortString(int length)
    {
        if (length > ushort.MaxValue)
        {
            AmfException.Throw(AmfError.StringTooLong);
        }
    }

    private readonly void WriteMarker(Amf0Marker marker)
    {
        _output.GetSpan(1)[0] = (byte)marker;
        _output.Advance(1);
    }

    private readonly void WriteUtf8Short(ReadOnlySpan<char> value, int length)
    {
        var span = _output.GetSpan(2 + length);
        BinaryPrimitives.WriteUInt16BigEndian(span, (ushort)length);
        Encoding.UTF8.GetBytes(value, span[2..]);
        _output.Advance(2 + length);
    }

    private readonly void WriteUtf8Long(ReadOnlySpan<char> value, int length)
    {
        var span = _output.GetSpan(4 + length);
        BinaryPrimitives.WriteUInt32BigEndian(span, (uint)length);
        Encoding.UTF8.GetBytes(value, span[4..]);
        _output.Advance(4 + length);
    }
}
