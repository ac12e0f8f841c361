using System.Buffers;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using MediaServer.Core.Amf;
using PropertyAttribute = FsCheck.NUnit.PropertyAttribute;

namespace MediaServer.Tests.Amf;

public class Amf0Tests
{
    public static IEnumerable<TestCaseData> GoldenVectors()
    {
        // 00 | 3FF0000000000000 : Number marker, IEEE-754 double 1.0 big-endian
        yield return new TestCaseData("003FF0000000000000", 1d).SetName("Number_1");
        // 01 | 01 : Boolean marker, true
        yield return new TestCaseData("0101", true).SetName("Boolean_True");
        // 02 | 0004 | "live" : String marker, u16 length, UTF-8
        yield return new TestCaseData("0200046C697665", "live").SetName("String_Live");
        // 05 : Null ; 06 : Undefined ; 0D : Unsupported
        yield return new TestCaseData("05", null).SetName("Null");
        yield return new TestCaseData("06", AmfUndefined.Instance).SetName("Undefined");
        yield return new TestCaseData("0D", AmfUnsupported.Instance).SetName("Unsupported");
        // 03 | 0003 "app" | 02 0004 "live" | 0000 09 : Object {app: "live"}, empty key + ObjectEnd
        yield return new TestCaseData("03000361707002" + "00046C697665" + "000009", new AmfObject { { "app", "live" } }).SetName("Object_App");
        // 08 | 00000001 | 0005 "width" | 00 4094000000000000 | 000009 : ECMA array {width: 1280}
        yield return new TestCaseData("0800000001" + "0005776964746800" + "4094000000000000" + "000009", new AmfEcmaArray { { "width", 1280d } }).SetName("EcmaArray_Width");
        // 0A | 00000002 | 00 4000000000000000 | 05 : strict array [2.0, null]
        yield return new TestCaseData("0A00000002" + "004000000000000000" + "05", new object?[] { 2d, null }).SetName("StrictArray");
        // 0B | 42745F680B000000 (double 1.4e12 ms) | 0000 tz : Date 2014-05-13T16:53:20Z
        yield return new TestCaseData("0B42745F680B000000" + "0000", DateTimeOffset.FromUnixTimeMilliseconds(1_400_000_000_000)).SetName("Date");
        // 0F | 00000004 | "<a/>" : XML document with u32 length
        yield return new TestCaseData("0F000000043C612F3E", new AmfXmlDocument("<a/>")).SetName("XmlDocument");
        // 10 | 0001 "C" | 0001 "x" | 01 00 | 000009 : typed object C {x: false}
        yield return new TestCaseData("10000143" + "0001780100" + "000009", new AmfTypedObject("C") { { "x", false } }).SetName("TypedObject");
    }

    [TestCaseSource(nameof(GoldenVectors))]
    public void ReadValue_GoldenVector_Decodes(string hex, object? expected)
    {
        var reader = new Amf0Reader(Convert.FromHexString(hex));
        var value = reader.ReadValue();
        var remaining = reader.Remaining;
        Assert.Multiple(() =>
        {
            Assert.That(AmfAssert.DeepEquals(expected, value), Is.True, $"decoded {value}");
            Assert.That(remaining, Is.Zero);
        });
    }

    [TestCaseSource(nameof(GoldenVectors))]
    public void WriteValue_GoldenVector_Encodes(string hex, object? value)
    {
        Assert.That(Convert.ToHexString(Encode(value)), Is.EqualTo(hex));
    }

    [Test]
    public void ReadValue_LongString_Decodes()
    {
        // 0C | 00000003 | "abc" : long string, u32 length
        var reader = new Amf0Reader(Convert.FromHexString("0C00000003616263"));
        Assert.That(reader.ReadValue(), Is.EqualTo("abc"));
    }

    [Test]
    public void WriteString_Over65535Bytes_UsesLongString()
    {
        var text = new string('x', 70000);
        var bytes = Encode(text);
        Assert.Multiple(() =>
        {
            Assert.That(bytes[0], Is.EqualTo((byte)Amf0Marker.LongString));
            Assert.That(bytes.Length, Is.EqualTo(1 + 4 + 70000));
            Assert.That(new Amf0Reader(bytes).ReadValue(), Is.EqualTo(text));
        });
    }

    [Test]
    public void ReadValue_Reference_ReturnsEarlierObject()
    {
        // 0A 00000002 | 03 0001 "a" 00 3FF0.. 000009 | 07 0001 : [obj, ref #1] (#0 is the array itself)
        var bytes = Convert.FromHexString("0A00000002" + "03000161003FF0000000000000000009" + "070001");
        var reader = new Amf0Reader(bytes);
        var array = (object?[])reader.ReadValue()!;
        Assert.That(array[1], Is.SameAs(array[0]));
    }

    [Test]
    public void ReadValue_AvmPlusSwitch_DecodesAmf3Scalars()
    {
        // 11 04 7F : AMF3 integer 127 ; 11 06 07 "abc" : AMF3 string (length 3 << 1 | 1 = 7)
        var reader = new Amf0Reader(Convert.FromHexString("11047F" + "110607616263"));
        var first = reader.ReadValue();
        var second = reader.ReadValue();
        Assert.Multiple(() =>
        {
            Assert.That(first, Is.EqualTo(127d));
            Assert.That(second, Is.EqualTo("abc"));
        });
    }

    [TestCase("110A0B01", AmfError.Amf3NotSupported, TestName = "ReadValue_Amf3Object_FailsClearly")]
    [TestCase("0700", AmfError.Truncated, TestName = "ReadValue_TruncatedReference_Throws")]
    [TestCase("070000", AmfError.InvalidReference, TestName = "ReadValue_DanglingReference_Throws")]
    [TestCase("0A7FFFFFFF05", AmfError.TooManyElements, TestName = "ReadValue_StrictArrayLyingCount_Throws")]
    [TestCase("0A0000000305", AmfError.Truncated, TestName = "ReadValue_StrictArrayCountBeyondData_Throws")]
    [TestCase("0C7FFFFFFF41", AmfError.StringTooLong, TestName = "ReadValue_LongStringLyingLength_Throws")]
    [TestCase("020005616263", AmfError.Truncated, TestName = "ReadValue_TruncatedString_Throws")]
    [TestCase("04", AmfError.ReservedMarker, TestName = "ReadValue_MovieClip_Throws")]
    [TestCase("20", AmfError.UnknownMarker, TestName = "ReadValue_UnknownMarker_Throws")]
    [TestCase("09", AmfError.UnexpectedType, TestName = "ReadValue_StrayObjectEnd_Throws")]
    [TestCase("0200 02C328", AmfError.InvalidUtf8, TestName = "ReadValue_InvalidUtf8_Throws")]
    public void ReadValue_Malformed_ThrowsWithReason(string hex, AmfError reason)
    {
        var bytes = Convert.FromHexString(hex.Replace(" ", string.Empty, StringComparison.Ordinal));
        var ex = Assert.Throws<AmfException>(() => new Amf0Reader(bytes).ReadValue());
        Assert.That(ex!.Reason, Is.EqualTo(reason));
    }

    [Test]
    public void ReadValue_NestingBeyondLimit_Throws()
    {
        var bytes = NestedObjects(AmfLimits.MaxDepth + 1);
        var ex = Assert.Throws<AmfException>(() => new Amf0Reader(bytes).ReadValue());
        Assert.That(ex!.Reason, Is.EqualTo(AmfError.NestingTooDeep));
    }

    [Test]
    public void ReadValue_NestingAtLimit_Decodes()
    {
        var bytes = NestedObjects(AmfLimits.MaxDepth);
        Assert.That(new Amf0Reader(bytes).ReadValue(), Is.InstanceOf<AmfObject>());
    }

    [Test]
    public void WriteValue_CyclicObject_ThrowsNestingTooDeep()
    {
        var obj = new AmfObject();
        obj["self"] = obj;
        var ex = Assert.Throws<AmfException>(() => Encode(obj));
        Assert.That(ex!.Reason, Is.EqualTo(AmfError.NestingTooDeep));
    }

    [Test]
    public void AmfObject_Indexer_ReplacesAndHelpersRead()
    {
        var obj = new AmfObject { { "app", "live" }, { "objectEncoding", 3d } };
        obj["app"] = "other";
        Assert.Multiple(() =>
        {
            Assert.That(obj.Count, Is.EqualTo(2));
            Assert.That(obj["app"], Is.EqualTo("other"));
            Assert.That(obj["missing"], Is.Null);
            Assert.That(obj.TryGetNumber("objectEncoding", out var n) && n == 3d, Is.True);
            Assert.That(obj.TryGetString("objectEncoding", out _), Is.False);
        });
    }

    [Property(Arbitrary = [typeof(AmfArbitraries)], MaxTest = 300, Replay = "(12345,67891)")]
    public bool Roundtrip_AmfValue(AmfSample sample)
    {
        var bytes = Encode(sample.Value);
        var reader = new Amf0Reader(bytes);
        var decoded = reader.ReadValue();
        return reader.Remaining == 0 && AmfAssert.DeepEquals(sample.Value, decoded);
    }

    internal static byte[] Encode(object? value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new Amf0Writer(buffer);
        writer.WriteValue(value);
        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] NestedObjects(int depth)
    {
        // depth objects: 03 (0001 'a' 03 (... 000009) 000009)
        var bytes = new List<byte>();
        for (var i = 0; i < depth; i++)
        {
            bytes.Add(0x03);
            if (i < depth - 1)
            {
                bytes.AddRange([0x00, 0x01, (byte)'a']);
            }
        }

        for (var i = 0; i < depth; i++)
        {
            bytes.AddRange([0x00, 0x00, 0x09]);
        }

        return [.. bytes];
    }
}

/// <summary>A generated AMF value (wrapped so FsCheck does not treat it as <c>object</c>).</summary>
public sealed record AmfSample(object? Value)
{
    public override string ToString() => Convert.ToHexString(Amf0Tests.Encode(Value));
}

public static class AmfArbitraries
{
    public static Arbitrary<AmfSample> Samples() => Arb.From(Gen.Sized(size => Value(Math.Min(size, 20))).Select(v => new AmfSample(v)));

    private static Gen<string> Text() =>
        Gen.OneOf(
            ArbMap.Default.GeneratorFor<string>().Select(s => s ?? string.Empty).Where(s => Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(s)) == s),
            Gen.Elements("app", "live", "onMetaData", "NetStream.Publish.Start", "é✓ünï"));

    private static Gen<object?> Scalar() =>
        Gen.OneOf(
            ArbMap.Default.GeneratorFor<double>().Select(d => (object?)d),
            ArbMap.Default.GeneratorFor<bool>().Select(b => (object?)b),
            Text().Select(s => (object?)s),
            Gen.Constant((object?)null),
            Gen.Constant((object?)AmfUndefined.Instance),
            Gen.Constant((object?)AmfUnsupported.Instance),
            Gen.Choose(-700_000, 700_000).Select(days => (object?)DateTimeOffset.FromUnixTimeMilliseconds(days * 86_400_000L + days)),
            Text().Select(s => (object?)new AmfXmlDocument(s)));

    private static Gen<object?> Value(int size)
    {
        if (size <= 1)
        {
            return Scalar();
        }

        var child = Gen.Sized(_ => Value(size / 3));
        var properties = Gen.Choose(0, 4).SelectMany(n => Gen.Zip(Text(), child).ArrayOf(n));
        return Gen.OneOf(
            Scalar(),
            properties.Select(p => (object?)Fill(new AmfObject(), p)),
            properties.Select(p => (object?)Fill(new AmfEcmaArray(), p)),
            Gen.Zip(Text(), properties).Select(t => (object?)Fill(new AmfTypedObject(t.Item1), t.Item2)),
            Gen.ArrayOf(child).Select(a => (object?)a));
    }

    private static AmfObject Fill(AmfObject target, IEnumerable<(string, object?)> properties)
    {
        foreach (var (key, value) in properties)
        {
            target.Add(key, value);
        }

        return target;
    }
}
