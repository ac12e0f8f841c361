using System.Buffers;
using FsCheck;
using FsCheck.Fluent;
using MediaServer.Core.Amf;
using MediaServer.Rtmp;
using MediaServer.Rtmp.Chunking;
using MediaServer.Rtmp.Messages;
using PropertyAttribute = FsCheck.NUnit.PropertyAttribute;

namespace MediaServer.Tests.Rtmp;

public class ChunkPropertyTests
{
    /// <summary>Every chunk stream id 2..65599 in each of the three forms, the form boundaries weighted in.</summary>
    [Property(MaxTest = 500, Replay = "(777,999)")]
    public Property Roundtrip_ChunkBasicHeader() => Prop.ForAll(
        Arb.From(Gen.Choose(0, 3).Select(f => (byte)f)),
        Arb.From(ChunkGens.ChunkStreamIds),
        (format, chunkStreamId) =>
        {
            var header = new ChunkBasicHeader(format, chunkStreamId);
            var buffer = new byte[3];
            var written = header.Write(buffer);
            var expectedSize = chunkStreamId < 64 ? 1 : chunkStreamId < 320 ? 2 : 3;
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(buffer, 0, written));
            return ChunkBasicHeader.TryRead(ref reader, out var decoded) && decoded == header &&
                written == expectedSize && reader.Remaining == 0 && buffer[0] >> 6 == format;
        });

    /// <summary>
    /// All four formats, timestamps over the whole uint range with the extended-timestamp boundary
    /// (0xFFFFFE, 0xFFFFFF, 0x1000000, uint.MaxValue) weighted in, message stream ids over the whole uint range.
    /// </summary>
    [Property(MaxTest = 500, Replay = "(4242,4243)")]
    public Property Roundtrip_ChunkMessageHeader() => Prop.ForAll(
        Arb.From(
            from format in Gen.Choose(0, 3).Select(f => (byte)f)
            from timestamp in ChunkGens.Timestamps
            from length in Gen.Frequency((1, Gen.Elements(0, 1, 0xFFFFFF)), (3, Gen.Choose(0, 0xFFFFFF)))
            from typeId in Gen.Choose(0, 255).Select(t => (byte)t)
            from streamId in ChunkGens.MessageStreamIds
            from previousHadExtended in Gen.Elements(false, true)
            select (format, timestamp, length, typeId, streamId, previousHadExtended)),
        c =>
        {
            // fmt 3 carries only the extended timestamp, and only when the chunk stream's last header had one.
            var extended = c.format == 3 ? c.previousHadExtended : c.timestamp >= ChunkMessageHeader.ExtendedTimestampMarker;
            var header = new ChunkMessageHeader(
                c.format,
                c.format < 3 || extended ? c.timestamp : 0,
                c.format <= 1 ? c.length : 0,
                c.format <= 1 ? c.typeId : (byte)0,
                c.format == 0 ? c.streamId : 0,
                extended);
            var buffer = new byte[15];
            var written = header.Write(buffer);
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(buffer, 0, written));
            return (ChunkMessageHeader.TryRead(ref reader, c.format, c.previousHadExtended, out var decoded) && decoded == header && reader.Remaining == 0)
                .Label($"roundtrip of {header} via {Convert.ToHexString(buffer, 0, written)}")
                .And((written == ChunkMessageHeader.GetSize(c.format) + (extended ? 4 : 0)).Label($"{written} bytes"));
        });

    /// <summary>
    /// Writer to reader over whole messages: chunk stream ids in all three forms, absolute timestamps and
    /// message stream ids over the whole uint range (edges weighted in), runs with a constant delta (what the
    /// writer compresses to fmt 2/3, extended deltas included), payloads split over continuation chunks.
    /// </summary>
    [Property(MaxTest = 300, Replay = "(8675309,8675311)")]
    public Property ChunkStreamWriter_Reader_RoundtripMessages() => Prop.ForAll(
        Arb.From(
            from chunkSize in Gen.Elements(1, 7, 128, 4096)
            from runs in ChunkGens.Runs.ArrayOf().Where(r => r.Length > 0)
            select (chunkSize, messages: runs.SelectMany(r => r).ToList())),
        c =>
        {
            using var reader = new ChunkStreamReader();
            var received = ChunkStreamTests.ReadAll(reader, ChunkStreamTests.WriteAll(c.messages, c.chunkSize))
                .Where(m => m.Type != RtmpMessageType.SetChunkSize).ToList();
            return (received.Count == c.messages.Count && received.Zip(c.messages).All(p => p.First.SameAs(p.Second)))
                .Label(string.Join("\n", received.Zip(c.messages).Where(p => !p.First.SameAs(p.Second)).Take(3).Select(p => $"sent {p.Second} got {p.First}")));
        });

    /// <summary>Fuzz contract: arbitrary bytes only ever produce messages, "need more", or RtmpProtocolException.</summary>
    [Property(MaxTest = 500, Replay = "(31337,31339)")]
    public bool ChunkStreamReader_ArbitraryBytes_OnlyThrowsProtocolException(byte[] bytes)
    {
        using var chunkReader = new ChunkStreamReader(maxMessageLength: 64 * 1024);
        try
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
            while (chunkReader.TryRead(ref reader, out var message))
            {
                message.Payload.Release();
            }

            return true;
        }
        catch (RtmpProtocolException)
        {
            return true;
        }
    }

    /// <summary>Fuzz contract: arbitrary bytes only ever decode or throw AmfException.</summary>
    [Property(MaxTest = 1000, Replay = "(2718,2819)")]
    public bool Amf0Reader_ArbitraryBytes_OnlyThrowsAmfException(byte[] bytes)
    {
        try
        {
            var reader = new Amf0Reader(bytes);
            while (!reader.IsEmpty)
            {
                reader.ReadValue();
            }

            return true;
        }
        catch (AmfException)
        {
            return true;
        }
    }

    /// <summary>Same, with inputs biased towards valid markers and small lengths so decoding gets deep.</summary>
    [Property(MaxTest = 1000, Replay = "(1618,1619)")]
    public Property Amf0Reader_MarkerHeavyBytes_OnlyThrowsAmfException()
    {
        var gen = Gen.OneOf(Gen.Choose(0, 0x12), Gen.Choose(0, 3), Gen.Choose(0, 255)).Select(i => (byte)i).ArrayOf();
        return Prop.ForAll(Arb.From(gen), bytes => Amf0Reader_ArbitraryBytes_OnlyThrowsAmfException(bytes));
    }
}

/// <summary>Generators over the whole domain of the chunk header fields, with their edges weighted in.</summary>
internal static class ChunkGens
{
    /// <summary>The full uint range, unsized (FsCheck's default uint stays near the test size).</summary>
    public static readonly Gen<uint> AnyUInt =
        from high in Gen.Choose(0, 0xFFFF)
        from low in Gen.Choose(0, 0xFFFF)
        select ((uint)high << 16) | (uint)low;

    /// <summary>Timestamps: 0, the 24-bit field's last values, the extended marker and beyond, uint.MaxValue.</summary>
    public static readonly Gen<uint> Timestamps = Gen.Frequency(
        (2, Gen.Elements(0u, 1u, 0xFFFFFEu, 0xFFFFFFu, 0x1000000u, uint.MaxValue - 1, uint.MaxValue)),
        (1, Gen.Choose(0, 0xFFFFFF).Select(t => (uint)t)),
        (2, AnyUInt));

    public static readonly Gen<uint> MessageStreamIds = Gen.Frequency(
        (1, Gen.Elements(0u, 1u, 0xFFFFFFu, 0x1000000u, uint.MaxValue)),
        (3, AnyUInt));

    /// <summary>Chunk stream ids 2..65599: each basic-header form's range, and its boundaries.</summary>
    public static readonly Gen<int> ChunkStreamIds = Gen.Frequency(
        (2, Gen.Elements(2, 3, 63, 64, 65, 318, 319, 320, 321, 65598, 65599)),
        (1, Gen.Choose(2, 63)),
        (1, Gen.Choose(64, 319)),
        (1, Gen.Choose(320, ChunkBasicHeader.MaxChunkStreamId)));

    /// <summary>
    /// One message, or a run of equal messages on one chunk stream with a constant delta (fmt 2, then fmt 3
    /// unless the delta needs the extended field).
    /// </summary>
    public static readonly Gen<TestMessage[]> Runs =
        from csid in ChunkStreamIds
        from type in Gen.Elements(RtmpMessageType.Audio, RtmpMessageType.Video, RtmpMessageType.DataAmf0)
        from timestamp in Timestamps
        from delta in Timestamps
        from streamId in MessageStreamIds
        from length in Gen.Frequency((1, Gen.Constant(0)), (4, Gen.Choose(1, 300)))
        from repeat in Gen.Choose(1, 4)
        select Enumerable.Range(0, repeat)
            .Select(i => new TestMessage(csid, type, unchecked(timestamp + (uint)i * delta), streamId,
                Enumerable.Range(0, length).Select(b => (byte)(b + i)).ToArray()))
            .ToArray();
}
