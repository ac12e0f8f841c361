using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace MediaServer.Core.Amf;

/// <summary>AMF0 type markers (AMF0 spec §2.1, "Action Message Format -- AMF 0", Adobe 2007).</summary>
public enum Amf0Marker : byte
{
    Number = 0x00,
    Boolean = 0x01,
    String = 0x02,
    Object = 0x03,
    MovieClip = 0x04,
    Null = 0x05,
    Undefined = 0x06,
    Reference = 0x07,
    EcmaArray = 0x08,
    ObjectEnd = 0x09,
    StrictArray = 0x0A,
    Date = 0x0B,
    LongString = 0x0C,
    Unsupported = 0x0D,
    RecordSet = 0x0E,
    XmlDocument = 0x0F,
    TypedObject = 0x10,
    AvmPlusObject = 0x11,
}

/// <summary>Why AMF data was rejected.</summary>
public enum AmfError
{
    Truncated = 1,
    UnknownMarker = 2,
    ReservedMarker = 3,
    NestingTooDeep = 4,
    StringTooLong = 5,
    TooManyElements = 6,
    InvalidReference = 7,
    UnexpectedType = 8,
    InvalidUtf8 = 9,
    Amf3NotSupported = 10,
    UnsupportedValueType = 11,
}

/// <summary>Malformed or over-limit AMF data.</summary>
public sealed class AmfException : FormatException
{
    public AmfException(AmfError reason)
        : base($"Invalid AMF data: {reason}.")
    {
        Reason = reason;
    }

    public AmfException(AmfError reason, string message)
        : base(message)
    {
        Reason = reason;
    }

    public AmfError Reason { get; }

    [DoesNotReturn]
    internal static void Throw(AmfError reason) => throw new AmfException(reason);

    [DoesNotReturn]
    internal static void Throw(AmfError reason, string message) => throw new AmfException(reason, message);
}

/// <summary>Limits applied while decoding and encoding AMF.</summary>
public static class AmfLimits
{
    /// <summary>Nesting of objects/arrays. Real commands and onMetaData nest 2-3 levels; 32 leaves room and
    /// bounds the recursion (stack) a hostile peer can cause.</summary>
    public const int MaxDepth = 32;

    /// <summary>UTF-8 bytes of one string. Commands and metadata carry short strings; 1 MiB is generous and
    /// keeps a lying 32-bit long-string length from being taken at face value.</summary>
    public const int MaxStringLength = 1024 * 1024;

    /// <summary>Properties of one object or elements of one array. onMetaData has a few dozen; 65536 bounds
    /// the work a small message can cause (each element needs at least one byte anyway).</summary>
    public const int MaxElementCount = 65536;
}

/// <summary>The AMF0 <c>undefined</c> value.</summary>
public sealed class AmfUndefined
{
    public static readonly AmfUndefined Instance = new();

    private AmfUndefined()
    {
    }

    public override string ToString() => "undefined";
}

/// <summary>The AMF0 <c>unsupported</c> value.</summary>
public sealed class AmfUnsupported
{
    public static readonly AmfUnsupported Instance = new();

    private AmfUnsupported()
    {
    }

    public override string ToString() => "unsupported";
}

/// <summary>An AMF0 XML document (AMF0 §2.17): the text, not parsed.</summary>
public sealed record AmfXmlDocument(string Xml);

/// <summary>
/// An AMF0 anonymous object (§2.5): an ordered list of properties. The indexer returns null for a missing key
/// and replaces (or appends) on set.
/// </summary>
[SuppressMessage("Naming", "CA1710:Identifiers should have correct suffix", Justification = "Named after the AMF0 type.")]
public class AmfObject : IEnumerable<KeyValuePair<string, object?>>
{
    private readonly List<KeyValuePair<string, object?>> _properties = [];

    public int Count => _properties.Count;

    public IReadOnlyList<KeyValuePair<string, object?>> Properties => _properties;

    public object? this[string key]
    {
        get => TryGetValue(key, out var value) ? value : null;
        set
        {
            for (var i = 0; i < _properties.Count; i++)
            {
                if (string.Equals(_properties[i].Key, key, StringComparison.Ordinal))
                {
                    _properties[i] = new(key, value);
                    return;
                }
            }

            _properties.Add(new(key, value));
        }
    }

    /// <summary>Appends a property (duplicates are kept, as on the wire).</summary>
    public void Add(string key, object? value) => _properties.Add(new(key, value));

    public bool ContainsKey(string key) => TryGetValue(key, out _);

    public bool TryGetValue(string key, out object? value)
    {
        foreach (var property in _properties)
        {
            if (string.Equals(property.Key, key, StringComparison.Ordinal))
            {
                value = property.Value;
                return true;
            }
        }

        value = null;
        return false;
    }

    public bool TryGetString(string key, [NotNullWhen(true)] out string? value)
    {
        value = TryGetValue(key, out var v) ? v as string : null;
        return value is not null;
    }

    public bool TryGetNumber(string key, out double value)
    {
        if (TryGetValue(key, out var v) && v is double d)
        {
            value = d;
            return true;
        }

        value = 0;
        return false;
    }

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => _properties.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>An AMF0 ECMA array (§2.10): an associative array, e.g. the body of <c>onMetaData</c>.</summary>
[SuppressMessage("Naming", "CA1710:Identifiers should have correct suffix", Justification = "Named after the AMF0 type.")]
public sealed class AmfEcmaArray : AmfObject
{
}

/// <summary>An AMF0 typed object (§2.18): an object with a registered class name.</summary>
[SuppressMessage("Naming", "CA1710:Identifiers should have correct suffix", Justification = "Named after the AMF0 type.")]
public sealed class AmfTypedObject(string className) : AmfObject
{
    public string ClassName { get; } = className;
}
