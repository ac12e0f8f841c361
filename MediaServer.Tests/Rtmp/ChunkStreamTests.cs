using System.Buffers;
using System.IO.Pipelines;
using FsCheck;
using FsCheck.Fluent;
using MediaServer.Rtmp;
using MediaServer.Rtmp.Chunking;
using MediaServer.Rtmp.Messages;
using PropertyAttribute = FsCheck.NUnit.PropertyAttribute;

namespace MediaServer.Tests.Rtmp;

/// <summary>A message as the tests compare them: header fields and payload bytes.</summary>
public sealed record TestMessage(int ChunkStreamId, RtmpMessageType Type, uint Timestamp, uint StreamId, byte[] Payload)
{
    public bool SameAs(TestMessage other) =>
        ChunkStreamId == other.ChunkStreamId && Type == other.Type && Timestamp == other.Timestamp &&
        StreamId == other.StreamId && Payload.AsSpan().SequenceEqual(other.Payload);

    public override string ToString() => $"cs{ChunkStreamId} {Type} ts={Timestamp} sid={StreamId} len={Payload.Length}";
}

public class ChunkStreamTests
{
    [Test]
    public void Read_SetChunkSizeGolden_AppliesToFollowingChunk()
    {
        // Set Chunk Size: 02 (fmt 0, csid 2) | ts 000000 | len 000004 | type 01 | sid 00000000 | 00001000 = 4096
        // then a 200-byte audio message on csid 4 in ONE chunk (only valid with chunk size > 128):
        // 04 | ts 000010 | len 0000C8 | type 08 | sid 01000000 | 200 bytes
        var payload = Enumerable.Range(0, 200).Select(i => (byte)i).ToArray();
        var bytes = Convert.FromHexString("02" + "000000" + "000004" + "01" + "00000000" + "00001000" + "04" + "000010" + "0000C8" + "08" + "01000000")
            .Concat(payload).ToArray();

        using var reader = new ChunkStreamReader();
        var messages = ReadAll(reader, bytes);
        Assert.Multiple(() =>
        {
            Assert.That(messages, Has.Count.EqualTo(2));
            Assert.That(messages[0].Type, Is.EqualTo(RtmpMessageType.SetChunkSize));
            Assert.That(reader.ChunkSize, Is.EqualTo(4096));
            Assert.That(messages[1].SameAs(new TestMessage(4, RtmpMessageType.Audio, 16, 1, payload)), Is.True, messages[1].ToString());
        });
    }

    [Test]
    public void Read_ExtendedTimestampWithContinuation_ReadsExtendedOnFmt3()
    {
        // 200-byte video message at chunk size 128, timestamp 0x01000000 (beyond 24 bits):
        // 06 | FFFFFF | 0000C8 | 09 | 01000000 | ext 01000000 | 128 bytes
        // C6 (fmt 3, csid 6) | ext 01000000 (repeated because the fmt 0 header had it) | 72 bytes
        var payload = Enumerable.Range(0, 200).Select(i => (byte)(i * 7)).ToArray();
        var bytes = Convert.FromHexString("06FFFFFF0000C80901000000" + "01000000").Concat(payload[..128])
            .Concat(Convert.FromHexString("C6" + "01000000")).Concat(payload[128..]).ToArray();

        var writer = new ArrayBufferWriter<byte>();
        new ChunkStreamWriter().Write(writer, 6, RtmpMessageType.Video, 0x01000000, 1, payload);

        using var reader = new ChunkStreamReader();
        var messages = ReadAll(reader, bytes);
        Assert.Multiple(() =>
        {
            Assert.That(Convert.ToHexString(writer.WrittenSpan), Is.EqualTo(Convert.ToHexString(bytes)), "writer output");
            Assert.That(messages, Has.Count.EqualTo(1));
            Assert.That(messages[0].SameAs(new TestMessage(6, RtmpMessageType.Video, 0x01000000, 1, payload)), Is.True);
        });
    }

    [Test]
    public void Read_Fmt3NewMessage_RepeatsPreviousDelta()
    {
        // csid 4: fmt 0 ts 100 len 1 audio sid 1 | AA
        //         fmt 2 delta 40                | BB   → ts 140
        //         fmt 3 (new message)           | CC   → ts 180 (delta repeated)
        var bytes = Convert.FromHexString("04" + "000064" + "000001" + "08" + "01000000" + "AA" + "84" + "000028" + "BB" + "C4" + "CC");
        using var reader = new ChunkStreamReader();
        var messages = ReadAll(reader, bytes);
        Assert.That(messages.Select(m => m.Timestamp), Is.EqualTo(new uint[] { 100, 140, 180 }));
    }

    [Test]
    public void Write_TimestampsCrossing24Bits_RoundTripWithFmt3AndFreshHeaders()
    {
        // Equal deltas below the marker use fmt 3 new-message chunks; the jump across 0xFFFFFF forces the
        // extended field on the header and on every continuation chunk.
        uint[] timestamps = [0xFFFFD0, 0xFFFFE0, 0xFFFFF0, 0x01000000, 0x01000010, 0x01000020, 0x02000000, 0x00000005];
        var sent = new List<TestMessage>();
        foreach (var ts in timestamps)
        {
            sent.Add(new TestMessage(6, RtmpMessageType.Video, ts, 1, Enumerable.Repeat((byte)ts, 300).ToArray()));
            sent.Add(new TestMessage(4, RtmpMessageType.Audio, ts, 1, Enumerable.Repeat((byte)(ts >> 1), 10).ToArray()));
        }

        // A fresh fmt 0 header for every message (first time on each chunk stream) and compressed ones after.
        var bytes = WriteAll(sent, chunkSize: 128);
        using var reader = new ChunkStreamReader();
        var received = ReadAll(reader, bytes);
        Assert.That(received, Has.Count.EqualTo(sent.Count));
        for (var i = 0; i < sent.Count; i++)
        {
            Assert.That(received[i].SameAs(sent[i]), Is.True, $"message {i}: sent {sent[i]}, got {received[i]}");
        }
    }

    [Test]
    public void Write_MaxMessageHeaderFormat0_AbsoluteExtendedHeaderOnEveryMessageAndItsContinuations()
    {
        // Two 200-byte video messages 33 ms apart beyond 24 bits, chunk size 128, every message fmt 0:
        // 06 | FFFFFF | 0000C8 | 09 | 01000000 | ext 01000000 | 128 bytes | C6 | ext 01000000 | 72 bytes
        // 06 | FFFFFF | 0000C8 | 09 | 01000000 | ext 01000021 | 128 bytes | C6 | ext 01000021 | 72 bytes
        // (the default writer would send the second as a fmt 2 delta without any extended field).
        var payload = Enumerable.Range(0, 200).Select(i => (byte)(i * 3)).ToArray();
        byte[] Message(string ext) => [.. Convert.FromHexString("06FFFFFF0000C80901000000" + ext), .. payload[..128], .. Convert.FromHexString("C6" + ext), .. payload[128..]];
        byte[] expected = [.. Message("01000000"), .. Message("01000021")];

        var writer = new ArrayBufferWriter<byte>();
        var chunks = new ChunkStreamWriter { MaxMessageHeaderFormat = 0 };
        chunks.Write(writer, 6, RtmpMessageType.Video, 0x01000000, 1, payload);
        chunks.Write(writer, 6, RtmpMessageType.Video, 0x01000021, 1, payload);

        using var reader = new ChunkStreamReader();
        var messages = ReadAll(reader, writer.WrittenSpan.ToArray());
        Assert.Multiple(() =>
        {
            Assert.That(Convert.ToHexString(writer.WrittenSpan), Is.EqualTo(Convert.ToHexString(expected)));
            Assert.That(messages.Select(m => m.Timestamp), Is.EqualTo(new uint[] { 0x01000000, 0x01000021 }));
        });
    }

    [Test]
    public void Write_MaxMessageHeaderFormat1_FreshDeltaHeaderWhereFmt3WouldDo()
    {
        // Three 10-byte audio messages at 100, 123, 146 on csid 4 (equal deltas: the default writes fmt 2 then fmt 3):
        // 04 | 000064 | 00000A | 08 | 01000000 | 10 bytes
        // 44 (fmt 1) | 000017 | 00000A | 08 | 10 bytes   (twice)
        var payload = Enumerable.Repeat((byte)0xAF, 10).ToArray();
        var fmt1 = Convert.FromHexString("44" + "000017" + "00000A" + "08");
        byte[] expected = [.. Convert.FromHexString("04" + "000064" + "00000A" + "08" + "01000000"), .. payload, .. fmt1, .. payload, .. fmt1, .. payload];

        var writer = new ArrayBufferWriter<byte>();
        var chunks = new ChunkStreamWriter { MaxMessageHeaderFormat = 1 };
        foreach (var ts in new uint[] { 100, 123, 146 })
        {
            chunks.Write(writer, 4, RtmpMessageType.Audio, ts, 1, payload);
        }

        using var reader = new ChunkStreamReader();
        var messages = ReadAll(reader, writer.WrittenSpan.ToArray());
        Assert.Multiple(() =>
        {
            Assert.That(Convert.ToHexString(writer.WrittenSpan), Is.EqualTo(Convert.ToHexString(expected)));
            Assert.That(messages.Select(m => m.Timestamp), Is.EqualTo(new uint[] { 100, 123, 146 }));
            Assert.That(() => chunks.MaxMessageHeaderFormat = 4, Throws.TypeOf<ArgumentOutOfRangeException>());
        });
    }

    [Test]
    public void Read_InterleavedChunkStreams_Reassembles()
    {
        // Two 200-byte messages on csid 4 and 6, chunks interleaved (4, 6, 4, 6) at chunk size 128.
        var a = Enumerable.Repeat((byte)0xAA, 200).ToArray();
        var b = Enumerable.Repeat((byte)0xBB, 200).ToArray();
        var bytes = Convert.FromHexString("04" + "000001" + "0000C8" + "08" + "01000000").Concat(a[..128])
            .Concat(Convert.FromHexString("06" + "000002" + "0000C8" + "09" + "01000000")).Concat(b[..128])
            .Concat(Convert.FromHexString("C4")).Concat(a[128..])
            .Concat(Convert.FromHexString("C6")).Concat(b[128..]).ToArray();
        using var reader = new ChunkStreamReader();
        var messages = ReadAll(reader, bytes);
        Assert.Multiple(() =>
        {
            Assert.That(messages, Has.Count.EqualTo(2));
            Assert.That(messages[0].SameAs(new TestMessage(4, RtmpMessageType.Audio, 1, 1, a)), Is.True);
            Assert.That(messages[1].SameAs(new TestMessage(6, RtmpMessageType.Video, 2, 1, b)), Is.True);
        });
    }

    [Test]
    public void Read_Abort_DropsPartialMessage()
    {
        // csid 4: first chunk of a 200-byte message; Abort(csid 4) on csid 2; then a fresh 1-byte message on csid 4.
        var bytes = Convert.FromHexString("04" + "000001" + "0000C8" + "08" + "01000000").Concat(new byte[128])
            .Concat(Convert.FromHexString("02" + "000000" + "000004" + "02" + "00000000" + "00000004"))
            .Concat(Convert.FromHexString("04" + "000002" + "000001" + "08" + "01000000" + "55")).ToArray();
        using var reader = new ChunkStreamReader();
        var messages = ReadAll(reader, bytes);
        Assert.Multiple(() =>
        {
            Assert.That(messages.Select(m => m.Type), Is.EqualTo(new[] { RtmpMessageType.Abort, RtmpMessageType.Audio }));
            Assert.That(messages[1].Payload, Is.EqualTo(new byte[] { 0x55 }));
        });
    }

    // fmt 1 on a chunk stream that never had a header
    [TestCase("44" + "000001" + "000001" + "08", RtmpProtocolError.NoPreviousHeader, TestName = "Read_Fmt1WithoutPreviousHeader_Throws")]
    // fmt 3 on a fresh chunk stream
    [TestCase("C5", RtmpProtocolError.NoPreviousHeader, TestName = "Read_Fmt3WithoutPreviousHeader_Throws")]
    // length 0xFFFFFF over a 1 MiB limit
    [TestCase("04" + "000000" + "FFFFFF" + "09" + "01000000", RtmpProtocolError.MessageTooLarge, TestName = "Read_LyingLength_ThrowsMessageTooLarge")]
    // Set Chunk Size 0x7FFFFFFF: valid by spec, absurd for us
    [TestCase("02" + "000000" + "000004" + "01" + "00000000" + "7FFFFFFF", RtmpProtocolError.ChunkSizeTooLarge, TestName = "Read_AbsurdChunkSize_Throws")]
    [TestCase("02" + "000000" + "000004" + "01" + "00000000" + "00000000", RtmpProtocolError.InvalidChunkSize, TestName = "Read_ZeroChunkSize_Throws")]
    [TestCase("02" + "000000" + "000004" + "01" + "00000000" + "80001000", RtmpProtocolError.InvalidChunkSize, TestName = "Read_ChunkSizeTopBitSet_Throws")]
    [TestCase("02" + "000000" + "000002" + "01" + "00000000" + "1000", RtmpProtocolError.InvalidControlMessage, TestName = "Read_ShortSetChunkSize_Throws")]
    // a new fmt 1 header in the middle of a 200-byte message on csid 4
    [TestCase("04" + "000001" + "0000C8" + "08" + "01000000" + "{128}" + "44" + "000001" + "000001" + "08" + "00", RtmpProtocolError.HeaderInsideMessage, TestName = "Read_HeaderInsideMessage_Throws")]
    public void Read_Malformed_ThrowsWithReason(string hex, RtmpProtocolError reason)
    {
        var bytes = Convert.FromHexString(hex.Replace("{128}", new string('0', 256), StringComparison.Ordinal));
        using var reader = new ChunkStreamReader(maxMessageLength: 1024 * 1024);
        var ex = Assert.Throws<RtmpProtocolException>(() => ReadAll(reader, bytes));
        Assert.That(ex!.Reason, Is.EqualTo(reason));
    }

    [TestCase(20)]
    [TestCase(ChunkStreamReader.MaxChunkStreams - 1)]
    public void Read_LyingLengthsOnManyChunkStreams_ReserveLittle_NotWhatWasDeclared(int streams)
    {
        // Each chunk stream declares a 16 MiB message and sends one 1-byte chunk (Set Chunk Size 1 first).
        var bytes = new List<byte>(Convert.FromHexString("02" + "000000" + "000004" + "01" + "00000000" + "00000001"));
        for (var csid = 400; csid < 400 + streams; csid++)
        {
            var rest = csid - 64;
            bytes.AddRange([0x01, (byte)rest, (byte)(rest >> 8)]);
            bytes.AddRange(Convert.FromHexString("000000" + "FFFFFF" + "09" + "01000000" + "00"));
        }

        using var reader = new ChunkStreamReader();
        Assert.That(ReadAll(reader, [.. bytes]).Select(m => m.Type), Is.EqualTo(new[] { RtmpMessageType.SetChunkSize }));
        Assert.That(reader.ReservedBytes, Is.EqualTo(streams), "one byte received on each: one byte held");
    }

    [Test]
    public void Read_LyingLengthsOnceGenerous_ReserveAtMostTheInitialReservationForTheFirstFew()
    {
        var bytes = new List<byte>(Convert.FromHexString("02" + "000000" + "000004" + "01" + "00000000" + "00000001"));
        const int Streams = 20;
        for (var csid = 400; csid < 400 + Streams; csid++)
        {
            var rest = csid - 64;
            bytes.AddRange([0x01, (byte)rest, (byte)(rest >> 8)]);
            bytes.AddRange(Convert.FromHexString("000000" + "FFFFFF" + "09" + "01000000" + "00"));
        }

        using var reader = new ChunkStreamReader();
        reader.LiftLimits();
        ReadAll(reader, [.. bytes]);
        var generous = ChunkStreamReader.GenerousMessages;
        Assert.That(reader.ReservedBytes, Is.EqualTo(((long)generous * ChunkStreamReader.InitialReservation) + (Streams - generous)));
    }

    [Test]
    public void Read_Restricted_RefusesTheNinthChunkStream()
    {
        var bytes = new List<byte>();
        for (var csid = 400; csid < 409; csid++)
        {
            var rest = csid - 64;
            bytes.AddRange([0x01, (byte)rest, (byte)(rest >> 8)]);
            bytes.AddRange(Convert.FromHexString("000000" + "000000" + "08" + "01000000"));
        }

        using var reader = new ChunkStreamReader();
        reader.Restrict(chunkStreams: 8, pendingBytes: 64 * 1024);
        var ex = Assert.Throws<RtmpProtocolException>(() => ReadAll(reader, [.. bytes]));
        Assert.That(ex!.Reason, Is.EqualTo(RtmpProtocolError.TooManyChunkStreams));
    }

    [Test]
    public void Read_Restricted_RefusesMoreThanThePendingBudget()
    {
        // One 1 MiB message at chunk size 4096: refused once more than 64 KiB would be held, long before 1 MiB.
        var payload = new byte[1024 * 1024];
        var writer = new ArrayBufferWriter<byte>();
        var chunks = new ChunkStreamWriter { ChunkSize = 4096 };
        chunks.Write(writer, 6, RtmpMessageType.Video, 0, 1, payload);
        var bytes = Convert.FromHexString("02" + "000000" + "000004" + "01" + "00000000" + "00001000").Concat(writer.WrittenSpan.ToArray()).ToArray();

        using var reader = new ChunkStreamReader();
        reader.Restrict(chunkStreams: 8, pendingBytes: 64 * 1024);
        var ex = Assert.Throws<RtmpProtocolException>(() => ReadAll(reader, bytes));
        Assert.That(ex!.Reason, Is.EqualTo(RtmpProtocolError.TooMuchPendingData));
        Assert.That(reader.ReservedBytes, Is.LessThanOrEqualTo(64 * 1024));
    }

    [Test]
    public void Read_Restricted_ALargeDeclaredChunkIsRefusedBeforeItsBytesArrive()
    {
        // Set Chunk Size 16 MiB, then a header declaring a 16 MiB message followed by 1000 bytes: refused at the header,
        // not left waiting while the unread bytes pile up in the transport (one stranger could pin ~1 MB each).
        var bytes = Convert.FromHexString("02" + "000000" + "000004" + "01" + "00000000" + "01000000" + "06" + "000000" + "FFFFFF" + "09" + "01000000")
            .Concat(new byte[1000]).ToArray();

        using var reader = new ChunkStreamReader();
        reader.Restrict(chunkStreams: 8, pendingBytes: 64 * 1024);
        var ex = Assert.Throws<RtmpProtocolException>(() => ReadAll(reader, bytes));
        Assert.That(ex!.Reason, Is.EqualTo(RtmpProtocolError.TooMuchPendingData));
        Assert.That(reader.ReservedBytes, Is.Zero);
    }

    [Test]
    public void Read_MessageLargerThanTheInitialReservation_GrowsAndReassembles()
    {
        var payload = new byte[3 * ChunkStreamReader.InitialReservation + 12_345];
        new Random(7).NextBytes(payload);
        var writer = new ArrayBufferWriter<byte>();
        new ChunkStreamWriter().Write(writer, 6, RtmpMessageType.Video, 40, 1, payload);

        using var reader = new ChunkStreamReader();
        var messages = ReadAll(reader, writer.WrittenSpan.ToArray());
        Assert.That(messages, Has.Count.EqualTo(1));
        Assert.That(messages[0].SameAs(new TestMessage(6, RtmpMessageType.Video, 40, 1, payload)), Is.True);
        Assert.That(reader.ReservedBytes, Is.Zero);
    }

    [Test]
    public void Read_TooManyChunkStreams_Throws()
    {
        // Zero-length fmt 0 messages on 1025 distinct chunk stream ids (3-byte basic header form).
        var bytes = new List<byte>();
        for (var csid = 400; csid < 400 + ChunkStreamReader.MaxChunkStreams + 1; csid++)
        {
            var rest = csid - 64;
            bytes.AddRange([0x01, (byte)rest, (byte)(rest >> 8)]);
            bytes.AddRange(Convert.FromHexString("000000" + "000000" + "08" + "01000000"));
        }

        using var reader = new ChunkStreamReader();
        var ex = Assert.Throws<RtmpProtocolException>(() => ReadAll(reader, [.. bytes]));
        Assert.That(ex!.Reason, Is.EqualTo(RtmpProtocolError.TooManyChunkStreams));
    }

    [Test]
    public void Read_PartialChunk_NeedsMoreBytesAndConsumesNothing()
    {
        var bytes = Convert.FromHexString("04" + "000001" + "000004" + "08" + "01000000" + "0102");
        using var reader = new ChunkStreamReader();
        var sequenceReader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        Assert.That(reader.TryRead(ref sequenceReader, out _), Is.False);
        Assert.That(sequenceReader.Consumed, Is.Zero);
    }

    [Property(Arbitrary = [typeof(ChunkArbitraries)], MaxTest = 60, Replay = "(424242,1013)")]
    public bool Messages_AreSplitInvariant(ChunkScenario scenario)
    {
        var bytes = WriteAll(scenario.Messages, scenario.ChunkSize);
        var received = ReadThroughPipeAsync(bytes, scenario.Segments).GetAwaiter().GetResult();

        // The Set Chunk Size message written first comes back too.
        var media = received.Where(m => m.Type != RtmpMessageType.SetChunkSize).ToList();
        if (media.Count != scenario.Messages.Count)
        {
            return false;
        }

        for (var i = 0; i < media.Count; i++)
        {
            if (!media[i].SameAs(scenario.Messages[i]))
            {
                return false;
            }
        }

        return true;
    }

    internal static byte[] WriteAll(IReadOnlyList<TestMessage> messages, int chunkSize)
    {
        var output = new ArrayBufferWriter<byte>();
        var writer = new ChunkStreamWriter();
        if (chunkSize != ChunkStreamReader.DefaultChunkSize)
        {
            writer.Write(output, ProtocolControl.ChunkStreamId, RtmpMessageType.SetChunkSize, 0, 0, ProtocolControl.SetChunkSize(chunkSize));
            writer.ChunkSize = chunkSize;
        }

        foreach (var message in messages)
        {
            writer.Write(output, message.ChunkStreamId, message.Type, message.Timestamp, message.StreamId, message.Payload);
        }

        return output.WrittenSpan.ToArray();
    }

    internal static List<TestMessage> ReadAll(ChunkStreamReader reader, byte[] bytes)
    {
        var result = new List<TestMessage>();
        var sequenceReader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        while (reader.TryRead(ref sequenceReader, out var message))
        {
            result.Add(ToTest(message));
        }

        Assert.That(sequenceReader.Remaining, Is.Zero, "unconsumed bytes");
        return result;
    }

    internal static TestMessage ToTest(RtmpMessage message)
    {
        var test = new TestMessage(message.ChunkStreamId, message.Type, message.Timestamp, message.MessageStreamId, message.Span.ToArray());
        message.Payload.Release();
        return test;
    }

    private static async Task<List<TestMessage>> ReadThroughPipeAsync(byte[] bytes, int[] segments)
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0, useSynchronizationContext: false));
        var producer = Task.Run(async () =>
        {
            var offset = 0;
            var i = 0;
            while (offset < bytes.Length)
            {
                var size = Math.Min(segments[i++ % segments.Length], bytes.Length - offset);
                await pipe.Writer.WriteAsync(bytes.AsMemory(offset, size));
                offset += size;
            }

            await pipe.Writer.CompleteAsync();
        });

        var result = new List<TestMessage>();
        using var chunkReader = new ChunkStreamReader();
        while (true)
        {
            var read = await pipe.Reader.ReadAsync();
            var consumed = Drain(chunkReader, read.Buffer, result);
            pipe.Reader.AdvanceTo(consumed, read.Buffer.End);
            if (read.IsCompleted)
            {
                break;
            }
        }

        await producer;
        await pipe.Reader.CompleteAsync();
        return result;
    }

    private static SequencePosition Drain(ChunkStreamReader chunkReader, ReadOnlySequence<byte> buffer, List<TestMessage> into)
    {
        var reader = new SequenceReader<byte>(buffer);
        while (chunkReader.TryRead(ref reader, out var message))
        {
            into.Add(ToTest(message));
        }

        return reader.Position;
    }
}

/// <summary>Random messages, a chunk size and a segmentation of the written bytes.</summary>
public sealed record ChunkScenario(List<TestMessage> Messages, int ChunkSize, int[] Segments)
{
    public override string ToString() =>
        $"chunk={ChunkSize} segments=[{string.Join(',', Segments)}] messages=[{string.Join("; ", Messages)}]";
}

public static class ChunkArbitraries
{
    public static Arbitrary<ChunkScenario> Scenarios() => Arb.From(
        from chunkSize in Gen.OneOf(Gen.Elements(1, 2, 127, 128, 129, 4096, 65536), Gen.Choose(1, 65536))
        from count in Gen.Choose(1, 8)
        from runs in Run().ArrayOf(count)
        let messages = runs.SelectMany(r => r).ToArray()
        from segmentCount in Gen.Choose(1, 6)
        from segments in Gen.OneOf(Gen.Choose(1, 16), Gen.Choose(1, 5000)).ArrayOf(segmentCount)
        select new ChunkScenario(Absolute(messages), chunkSize, segments));

    // Runs of messages with the same chunk stream, type, length and delta: what the writer compresses to fmt 3.
    private static Gen<(int Csid, RtmpMessageType Type, uint Delta, uint StreamId, byte[] Payload)[]> Run() =>
        from first in Message()
        from repeat in Gen.Choose(1, 3)
        select Enumerable.Range(0, repeat).Select(i => first with { Payload = first.Payload.Select(b => (byte)(b + i)).ToArray() }).ToArray();

    // Chunk stream ids in all three basic-header forms; timestamps as deltas, sometimes large, to cross 0xFFFFFF.
    private static Gen<(int Csid, RtmpMessageType Type, uint Delta, uint StreamId, byte[] Payload)> Message() =>
        from csid in Gen.Elements(3, 4, 6, 63, 64, 319, 320, 65599)
        from type in Gen.Elements(RtmpMessageType.Audio, RtmpMessageType.Video, RtmpMessageType.DataAmf0, RtmpMessageType.CommandAmf0)
        from delta in Gen.OneOf(Gen.Constant(0u), Gen.Elements(20u, 33u, 40u), Gen.Choose(0, int.MaxValue).Select(v => (uint)v), Gen.Elements(0xFFFFFEu, 0xFFFFFFu, 0x1000000u))
        from streamId in Gen.Elements(0u, 1u, 1u, 1u, 7u)
        from length in Gen.OneOf(Gen.Choose(0, 300), Gen.Choose(0, 20_000))
        from seed in Gen.Choose(0, 255)
        select (csid, type, delta, streamId, Enumerable.Range(0, length).Select(i => (byte)(i + seed)).ToArray());

    private static List<TestMessage> Absolute((int Csid, RtmpMessageType Type, uint Delta, uint StreamId, byte[] Payload)[] messages)
    {
        uint timestamp = 0;
        var result = new List<TestMessage>(messages.Length);
        foreach (var m in messages)
        {
            timestamp = unchecked(timestamp + m.Delta);
            result.Add(new TestMessage(m.Csid, m.Type, timestamp, m.StreamId, m.Payload));
        }

        return result;
    }
}

public class ChunkStreamAllocationTests
{
    [Test]
    public void Read_SteadyState_AllocatesNothingPerMessage()
    {
        var messages = new List<TestMessage>();
        for (var i = 0; i < 200; i++)
        {
            messages.Add(new TestMessage(6, RtmpMessageType.Video, (uint)(i * 33), 1, new byte[5000 + (i % 7)]));
            messages.Add(new TestMessage(4, RtmpMessageType.Audio, (uint)(i * 23), 1, new byte[400]));
        }

        var bytes = ChunkStreamTests.WriteAll(messages, 4096);
        using var chunkReader = new ChunkStreamReader();
        ReadAndRelease(chunkReader, bytes); // warm up: chunk stream states, pools, JIT

        var before = GC.GetAllocatedBytesForCurrentThread();
        var count = ReadAndRelease(chunkReader, bytes);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.That(count, Is.EqualTo(messages.Count + 1));
        Assert.That(allocated, Is.Zero);
    }

    private static int ReadAndRelease(ChunkStreamReader chunkReader, byte[] bytes)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        var count = 0;
        while (chunkReader.TryRead(ref reader, out var message))
        {
            message.Payload.Release();
            count++;
        }

        return count;
    }
}
