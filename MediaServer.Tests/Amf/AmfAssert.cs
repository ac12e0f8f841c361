using MediaServer.Core.Amf;

namespace MediaServer.Tests.Amf;

/// <summary>Structural equality over the AMF value model (objects compare by ordered properties).</summary>
internal static class AmfAssert
{
    public static bool DeepEquals(object? expected, object? actual)
    {
        switch (expected)
        {
            case null:
                return actual is null;
            case double d:
                return actual is double a && BitConverter.DoubleToInt64Bits(d) == BitConverter.DoubleToInt64Bits(a);
            case AmfTypedObject t:
                return actual is AmfTypedObject at && t.ClassName == at.ClassName && PropertiesEqual(t, at);
            case AmfEcmaArray e:
                return actual is AmfEcmaArray ae && PropertiesEqual(e, ae);
            case AmfObject o:
                return actual is AmfObject ao && actual.GetType() == typeof(AmfObject) && PropertiesEqual(o, ao);
            case object?[] array:
                if (actual is not object?[] other || other.Length != array.Length)
                {
                    return false;
                }

                for (var i = 0; i < array.Length; i++)
                {
                    if (!DeepEquals(array[i], other[i]))
                    {
                        return false;
                    }
                }

                return true;
            default:
                return Equals(expected, actual);
        }
    }

    private static bool PropertiesEqual(AmfObject expected, AmfObject actual)
    {
        if (expected.Count != actual.Count)
        {
            return false;
        }

        for (var i = 0; i < expected.Count; i++)
        {
            var e = expected.Properties[i];
            var a = actual.Properties[i];
            if (e.Key != a.Key || !DeepEquals(e.Value, a.Value))
            {
                return false;
            }
        }

        return true;
    }
}
