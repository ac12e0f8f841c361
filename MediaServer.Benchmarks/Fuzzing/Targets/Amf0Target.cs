using MediaServer.Core.Amf;
using MediaServer.Rtmp.Messages;

namespace MediaServer.Fuzzing.Targets;

/// <summary>
/// AMF0 decoding: a command message body (type 20, and type 17 with its AMF3 format byte) as the session
/// decodes it, and the same bytes as a sequence of values (data messages, metadata).
/// Escapes: <see cref="AmfException"/>.
/// </summary>
internal static class Amf0Target
{
    public static void Run(ReadOnlySpan<byte> input)
    {
        foreach (var amf3 in (ReadOnlySpan<bool>)[false, true])
        {
            try
            {
                var command = RtmpCommand.Parse(input, amf3);
                FuzzFindingException.Check(command.Name is not null, "a parsed command has a name");
                FuzzFindingException.Check(command.Arguments.Length <= AmfLimits.MaxElementCount, "arguments within the element limit");
            }
            catch (AmfException)
            {
            }
        }

        try
        {
            var reader = new Amf0Reader(input);
            while (!reader.IsEmpty)
            {
                var before = reader.Consumed;
                _ = reader.ReadValue();
                FuzzFindingException.Check(reader.Consumed > before, "every value consumes bytes");
            }
        }
        catch (AmfException)
        {
        }
    }
}
