using System.Buffers;
using MediaServer.Rtmp;
using MediaServer.Rtmp.Handshake;

namespace MediaServer.Fuzzing.Targets;

/// <summary>
/// The RTMP handshake as the server reads it (C0+C1, answer S0+S1+S2, then C2) and as the client reads it
/// (S0+S1, digest check with the server key). Input: the bytes from the peer. Escapes: <see cref="RtmpProtocolException"/>.
/// </summary>
internal static class HandshakeTarget
{
    public static void Run(ReadOnlySpan<byte> input)
    {
        // Any split of the bytes must read the same: deliver them in segments sized by the first byte.
        var segmentLength = input.IsEmpty ? 1 : 1 + (input[0] * 7);
        var sequence = FuzzSequence.Create(input, segmentLength);
        Server(sequence);
        Client(sequence);
    }

    private static void Server(ReadOnlySequence<byte> sequence)
    {
        var c1 = new byte[RtmpHandshake.PacketSize];
        var reader = new SequenceReader<byte>(sequence);
        try
        {
            if (!RtmpHandshake.TryReadC0C1(ref reader, c1))
            {
                FuzzFindingException.Check(reader.Consumed == 0, "an incomplete C0C1 consumes nothing");
                return;
            }
        }
        catch (RtmpProtocolException)
        {
            return;
        }

        FuzzFindingException.Check(reader.Consumed == 1 + RtmpHandshake.PacketSize, "C0C1 is 1537 bytes");
        var output = new ArrayBufferWriter<byte>(1 + (2 * RtmpHandshake.PacketSize));
        RtmpHandshake.WriteS0S1S2(c1, output, new Random(0));
        FuzzFindingException.Check(output.WrittenCount == 1 + (2 * RtmpHandshake.PacketSize), "S0S1S2 is 3073 bytes");
        FuzzFindingException.Check(output.WrittenSpan[0] == RtmpHandshake.Version, "S0 is version 3");

        // A digest-form S1 must validate with the server key, as a Flash player checks it.
        var s1 = output.WrittenSpan.Slice(1, RtmpHandshake.PacketSize);
        if (RtmpHandshake.FindDigest(c1, RtmpHandshake.PlayerKey.AsSpan(0, RtmpHandshake.PlayerKeyTextLength), out _) >= 0
            && c1.AsSpan(4, 4).IndexOfAnyExcept((byte)0) >= 0)
        {
            FuzzFindingException.Check(
                RtmpHandshake.FindDigest(s1, RtmpHandshake.ServerKey.AsSpan(0, RtmpHandshake.ServerKeyTextLength), out _) >= 0,
                "S1 answering a digest C1 carries a valid server digest");
        }
        else
        {
            FuzzFindingException.Check(output.WrittenSpan.Slice(1 + RtmpHandshake.PacketSize).SequenceEqual(c1), "simple form echoes C1 as S2");
        }

        var before = reader.Consumed;
        if (!RtmpHandshake.TrySkipPacket(ref reader))
        {
            FuzzFindingException.Check(reader.Consumed == before, "an incomplete C2 consumes nothing");
        }
    }

    private static void Client(ReadOnlySequence<byte> sequence)
    {
        var s1 = new byte[RtmpHandshake.PacketSize];
        var reader = new SequenceReader<byte>(sequence);
        try
        {
            if (!RtmpHandshake.TryReadS0S1(ref reader, s1))
            {
                return;
            }
        }
        catch (RtmpProtocolException)
        {
            return;
        }

        var offset = RtmpHandshake.FindDigest(s1, RtmpHandshake.ServerKey.AsSpan(0, RtmpHandshake.ServerKeyTextLength), out var schemaBase);
        FuzzFindingException.Check(offset < 0 || offset + RtmpHandshake.DigestLength <= RtmpHandshake.PacketSize, "digest inside the packet");
        FuzzFindingException.Check(offset < 0 || schemaBase > 0, "schema of a found digest");
        var output = new ArrayBufferWriter<byte>(RtmpHandshake.PacketSize);
        RtmpHandshake.WriteC2(s1, output);
        FuzzFindingException.Check(output.WrittenSpan.SequenceEqual(s1), "C2 echoes S1");
    }
}
