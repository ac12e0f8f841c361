using System.Buffers;
using MediaServer.Core.Amf;

namespace MediaServer.Rtmp.Messages;

/// <summary>
/// A command message (RTMP 1.0 spec §7.1.1, §7.2): AMF0 command name, transaction id, command object, then
/// optional arguments. Type 20 is AMF0; type 17 (AMF3 command) starts with one format byte 0 followed by
/// AMF0 values (which may switch to AMF3 per value with marker 0x11).
/// Commands are rare (not per frame), so they are decoded into the AMF value model.
/// </summary>
public sealed class RtmpCommand
{
    public RtmpCommand(string name, double transactionId, object? commandObject, object?[] arguments)
    {
        Name = name;
        TransactionId = transactionId;
        CommandObject = commandObject;
        Arguments = arguments;
    }

    public string Name { get; }

    public double TransactionId { get; }

    public object? CommandObject { get; }

    public object?[] Arguments { get; }

    /// <summary>The i-th argument as a string, or null.</summary>
    public string? GetStringArgument(int index) => index < Arguments.Length ? Arguments[index] as string : null;

    /// <summary>The i-th argument (or the command object when index is -1) as an object, or null.</summary>
    public AmfObject? GetObjectArgument(int index) => (index < 0 ? CommandObject : index < Arguments.Length ? Arguments[index] : null) as AmfObject;

    /// <summary>
    /// Decodes a command message body.
    /// </summary>
    /// <exception cref="AmfException">The body is not a well-formed command.</exception>
    public static RtmpCommand Parse(ReadOnlySpan<byte> payload, bool amf3)
    {
        if (amf3 && payload.Length > 0 && payload[0] == 0)
        {
            payload = payload[1..];
        }

        var reader = new Amf0Reader(payload);
        var name = reader.ReadString();

        // The transaction id is a number; some clients send null for notifications (onStatus-like calls).
        double transactionId = 0;
        if (!reader.IsEmpty && !reader.TryReadNumber(out transactionId) && !reader.TryReadNull())
        {
            throw new AmfException(AmfError.UnexpectedType, "Command transaction id is not a number.");
        }

        var commandObject = reader.IsEmpty ? null : reader.ReadValue();
        var arguments = new List<object?>();
        while (!reader.IsEmpty)
        {
            if (arguments.Count >= AmfLimits.MaxElementCount)
            {
                throw new AmfException(AmfError.TooManyElements);
            }

            arguments.Add(reader.ReadValue());
        }

        return new RtmpCommand(name, transactionId, commandObject, [.. arguments]);
    }

    /// <summary>Encodes a command (AMF0, message type 20).</summary>
    public static byte[] Encode(string name, double transactionId, object? commandObject, params ReadOnlySpan<object?> arguments)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        var writer = new Amf0Writer(buffer);
        writer.WriteString(name);
        writer.WriteNumber(transactionId);
        writer.WriteValue(commandObject);
        foreach (var argument in arguments)
        {
            writer.WriteValue(argument);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Encodes a data message (AMF0, message type 18): a handler name then values.</summary>
    public static byte[] EncodeData(string name, params ReadOnlySpan<object?> values)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        var writer = new Amf0Writer(buffer);
        writer.WriteString(name);
        foreach (var value in values)
        {
            writer.WriteValue(value);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>An onStatus / _result info object: level, code, description (NetConnection/NetStream info).</summary>
    public static AmfObject StatusInfo(string level, string code, string description) => new()
    {
        { "level", level },
        { "code", code },
        { "description", description },
    };

    public override string ToString() => $"{Name}({TransactionId})";
}
