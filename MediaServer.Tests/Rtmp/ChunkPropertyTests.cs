using System.Buffers;
using FsCheck;
using FsCheck.Fluent;
using MediaServer.Core.Amf;
using MediaServer.Rtmp;
using MediaServer.Rtmp.Chunking;
using PropertyAttribute = FsCheck.NUnit.PropertyAttribute;

namespace MediaServer.Tests.Rtmp;

public class ChunkPropertyTests
{
    [Property(MaxTest = 500, Replay = "(777,999)")]
    public bool Roundtrip_ChunkBasicHeader(byte format, ushort raw)
    {
        var header = new ChunkBasicHeader((byte)(format & 3), 2 + (raw % (ChunkBasicHeader.MaxChunkStreamId - 1)));
        var buffer = new byte[3];
        var written = header.Write(buffer);
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(buffer, 0, written));
        return ChunkBasicHeader.TryRead(ref reader, out var decoded) && decoded == header && written == header.Size;
    }

    [Property(MaxTest = 500, Replay = "(4242,4243)")]
    public bool Roundtrip_ChunkMessageHeader(byte format, uint timestamp, int length, byte typeId, uint streamId)
    {
        var fmt = (byte)(format % 3); // fmt 3 carries nothing to round-trip on its own
        var header = new ChunkMessageHeader(
            fmt,
            timestamp,
            fmt <= 1 ? length & 0xFFFFFF : 0,
            fmt <= 1 ? typeId : (byte)0,
            fmt == 0 ? streamId : 0,
            timestamp >= ChunkMessageHeader.ExtendedTimestampMarker);
        var buffer = new byte[15];
        var written = header.Write(buffer);
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(buffer, 0, written));
        return ChunkMessageHeader.TryRead(ref reader, fmt, false, out var decoded) && decoded == header && reader.Remaining == 0;
    }

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
