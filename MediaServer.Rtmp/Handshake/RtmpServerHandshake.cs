using System.Buffers;
using System.IO.Pipelines;
using MediaServer.Rtmp.Session;

namespace MediaServer.Rtmp.Handshake;

/// <summary>
/// The server side of the RTMP handshake over a pipe (RTMP 1.0 §5.2): read C0+C1, answer S0+S1+S2 (digest form when
/// C1 is, see <see cref="RtmpHandshake"/>), read C2; bounded by a timeout.
/// </summary>
internal static class RtmpServerHandshake
{
    /// <summary>Bytes a client sends in the handshake: C0, C1 and C2.</summary>
    public const int Length = 1 + (2 * RtmpHandshake.PacketSize);

    /// <summary>Runs the server side of the handshake; returns once C2 was read (chunk data may follow in the same read).</summary>
    /// <exception cref="RtmpProtocolException">Timed out, or the peer closed during the handshake.</exception>
    public static async Task RunAsync(PipeReader input, RtmpOutput output, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var c1 = new byte[RtmpHandshake.PacketSize];
        var haveC1 = false;
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new RtmpProtocolException(RtmpProtocolError.HandshakeTimeout, $"Handshake not completed within {timeout.TotalSeconds:0.#} s.");
            }

            var buffer = result.Buffer;
            var consumed = buffer.Start;
            var examined = buffer.End;
            var done = false;
            byte[]? response = null;
            try
            {
                (haveC1, done, consumed, response) = ParseHandshake(buffer, c1, haveC1);
                if (done)
                {
                    examined = consumed; // chunk data may follow C2 in the same read
                }
            }
            finally
            {
                input.AdvanceTo(consumed, examined);
            }

            if (response is not null)
            {
                await output.SendRawAsync(response, deadline.Token).ConfigureAwait(false);
            }

            if (done)
            {
                return;
            }

            if (result.IsCompleted)
            {
                throw new RtmpProtocolException(RtmpProtocolError.HandshakeIncomplete, "Connection closed during the handshake.");
            }
        }
    }

    private static (bool HaveC1, bool Done, SequencePosition Consumed, byte[]? Response) ParseHandshake(in ReadOnlySequence<byte> buffer, byte[] c1, bool haveC1)
    {
        var reader = new SequenceReader<byte>(buffer);
        byte[]? response = null;
        if (!haveC1)
        {
            if (!RtmpHandshake.TryReadC0C1(ref reader, c1))
            {
                return (false, false, reader.Position, null);
            }

            haveC1 = true;
            var writer = new ArrayBufferWriter<byte>(Length);
            RtmpHandshake.WriteS0S1S2(c1, writer);
            response = writer.WrittenSpan.ToArray();
        }

        var done = RtmpHandshake.TrySkipPacket(ref reader);
        return (haveC1, done, reader.Position, response);
    }
}
