using System.Buffers;
using MediaServer.Rtmp;
using MediaServer.Rtmp.Chunking;
using MediaServer.Rtmp.Messages;

namespace MediaServer.Fuzzing.Targets;

/// <summary>
/// The chunk stream after the handshake, read as a connection's read loop does: bytes arrive in pieces, each
/// read parses every whole message and leaves the rest for the next read. Set Chunk Size and Abort are applied
/// by the reader; the other protocol control messages and aggregate messages are decoded as the session does. The same bytes read in
/// one piece must give the same messages and end the same way (split invariance).
/// Input: byte 0 = read size - 1; the rest = the bytes from the peer. Escapes: <see cref="RtmpProtocolException"/>.
/// </summary>
internal static class ChunkStreamTarget
{
    public static void Run(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
        {
            return;
        }

        var sequence = FuzzSequence.Create(input[1..], 1 + input[0]);
        var pieces = Read(sequence, 1 + input[0]);
        var whole = Read(sequence, int.MaxValue);
        FuzzFindingException.Check(pieces.SequenceEqual(whole), "reading in pieces yields what reading at once does");
    }

    /// <summary>What the reader produced: one line per message, then how it ended.</summary>
    private static List<string> Read(ReadOnlySequence<byte> sequence, int readSize)
    {
        var results = new List<string>();
        using var chunks = new ChunkStreamReader();
        try
        {
            var consumed = sequence.Start;
            for (long delivered = 0; delivered < sequence.Length;)
            {
                delivered = Math.Min(sequence.Length, delivered + readSize);
                var reader = new SequenceReader<byte>(sequence.Slice(consumed, sequence.GetPosition(delivered)));
                while (chunks.TryRead(ref reader, out var message))
                {
                    try
                    {
                        results.Add(Check(chunks, message));
                    }
                    finally
                    {
                        message.Payload.Release();
                    }
                }

                consumed = reader.Position;
            }

            results.Add($"incomplete {sequence.Slice(consumed).Length}");
        }
        catch (RtmpProtocolException ex)
        {
            // Ends the connection; Dispose releases partial messages.
            results.Add($"error {ex.Reason}");
        }

        return results;
    }

    private static string Check(ChunkStreamReader chunks, in RtmpMessage message)
    {
        FuzzFindingException.Check(message.Payload.Length <= ChunkStreamReader.MaxWireMessageLength, "message within the 24-bit length");
        FuzzFindingException.Check(chunks.ChunkSize is >= 1 and <= ChunkStreamReader.MaxIncomingChunkSize, "chunk size within limits");
        switch (message.Type)
        {
            case RtmpMessageType.Acknowledgement:
            case RtmpMessageType.WindowAcknowledgementSize:
                ProtocolControl.ReadUInt32(message.Span);
                break;
            case RtmpMessageType.SetPeerBandwidth:
                ProtocolControl.ReadSetPeerBandwidth(message.Span);
                break;
            case RtmpMessageType.UserControl:
                UserControlEvent.Parse(message.Span);
                break;
            case RtmpMessageType.Aggregate:
                return $"{Describe(message)} [{Aggregate(message.Span)}]";
        }

        return Describe(message);
    }

    private static string Describe(in RtmpMessage message) =>
        $"{message.ChunkStreamId} {message.Type} {message.Timestamp} {message.MessageStreamId} {message.Payload.Length} {Convert.ToHexString(message.Span[..Math.Min(16, message.Payload.Length)])}";

    /// <summary>Walks an aggregate's sub-messages as the session does (a malformed one ends the walk, logged there).</summary>
    private static string Aggregate(ReadOnlySpan<byte> body)
    {
        var offset = 0;
        var count = 0;
        try
        {
            while (RtmpAggregate.TryReadNext(body, ref offset, out var sub))
            {
                FuzzFindingException.Check(sub.Offset >= 0 && sub.Length >= 0 && sub.Offset + sub.Length <= body.Length, "sub-message inside the aggregate");
                FuzzFindingException.Check(offset <= body.Length, "walk stays inside the aggregate");
                count++;
            }

            return $"{count} sub-messages";
        }
        catch (MediaServer.Core.Flv.FlvFormatException)
        {
            return $"{count} sub-messages, then malformed";
        }
    }
}
