using System.Buffers;
using MediaServer.Rtmp.Chunking;

namespace MediaServer.Tests.Rtmp;

public class ChunkHeaderTests
{
    public static IEnumerable<TestCaseData> BasicHeaders()
    {
        // 1-byte form: fmt (2 bits) | csid (6 bits)
        yield return new TestCaseData("03", (byte)0, 3).SetName("Basic_Fmt0_Csid3");
        yield return new TestCaseData("7F", (byte)1, 63).SetName("Basic_Fmt1_Csid63");
        // 2-byte form: fmt | 0 ; csid - 64
        yield return new TestCaseData("8000", (byte)2, 64).SetName("Basic_Fmt2_Csid64");
        yield return new TestCaseData("C0FF", (byte)3, 319).SetName("Basic_Fmt3_Csid319");
        // 3-byte form: fmt | 1 ; (csid - 64) little-endian 16 bits
        yield return new TestCaseData("010001", (byte)0, 320).SetName("Basic_Fmt0_Csid320");
        yield return new TestCaseData("41FFFF", (byte)1, 65599).SetName("Basic_Fmt1_Csid65599");
    }

    [TestCaseSource(nameof(BasicHeaders))]
    public void ChunkBasicHeader_GoldenVector_Decodes(string hex, byte format, int csid)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Convert.FromHexString(hex)));
        Assert.That(ChunkBasicHeader.TryRead(ref reader, out var header), Is.True);
        Assert.That(header, Is.EqualTo(new ChunkBasicHeader(format, csid)));
        Assert.That(reader.Remaining, Is.Zero);
    }

    [TestCaseSource(nameof(BasicHeaders))]
    public void ChunkBasicHeader_GoldenVector_Encodes(string hex, byte format, int csid)
    {
        var buffer = new byte[3];
        var written = new ChunkBasicHeader(format, csid).Write(buffer);
        Assert.That(Convert.ToHexString(buffer, 0, written), Is.EqualTo(hex));
    }

    [TestCase("80")]
    [TestCase("41FF")]
    public void ChunkBasicHeader_Truncated_NeedsMoreBytes(string hex)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Convert.FromHexString(hex)));
        Assert.That(ChunkBasicHeader.TryRead(ref reader, out _), Is.False);
    }

    public static IEnumerable<TestCaseData> MessageHeaders()
    {
        // fmt 0: timestamp 1000 | length 33 | type 20 (AMF0 command) | stream id 1, little-endian
        yield return new TestCaseData("0003E8" + "000021" + "14" + "01000000", new ChunkMessageHeader(0, 1000, 33, 20, 1, false)).SetName("Message_Fmt0");
        // fmt 0 extended: timestamp field 0xFFFFFF | length 4 | type 9 | stream 1 | extended 0x01000000
        yield return new TestCaseData("FFFFFF" + "000004" + "09" + "01000000" + "01000000", new ChunkMessageHeader(0, 0x01000000, 4, 9, 1, true)).SetName("Message_Fmt0_Extended");
        // fmt 0 at exactly 0xFFFFFF: marker, then the 4-byte field carries 0x00FFFFFF
        yield return new TestCaseData("FFFFFF" + "000000" + "08" + "00000000" + "00FFFFFF", new ChunkMessageHeader(0, 0xFFFFFF, 0, 8, 0, true)).SetName("Message_Fmt0_AtMarker");
        // fmt 1: delta 33 | length 256 | type 8 (audio)
        yield return new TestCaseData("000021" + "000100" + "08", new ChunkMessageHeader(1, 33, 256, 8, 0, false)).SetName("Message_Fmt1");
        // fmt 2: delta 40
        yield return new TestCaseData("000028", new ChunkMessageHeader(2, 40, 0, 0, 0, false)).SetName("Message_Fmt2");
        // fmt 2 extended: marker | delta 0x12345678
        yield return new TestCaseData("FFFFFF" + "12345678", new ChunkMessageHeader(2, 0x12345678, 0, 0, 0, true)).SetName("Message_Fmt2_Extended");
        // fmt 3: nothing
        yield return new TestCaseData(string.Empty, new ChunkMessageHeader(3, 0, 0, 0, 0, false)).SetName("Message_Fmt3");
    }

    [TestCaseSource(nameof(MessageHeaders))]
    public void ChunkMessageHeader_GoldenVector_Decodes(string hex, ChunkMessageHeader expected)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Convert.FromHexString(hex)));
        Assert.That(ChunkMessageHeader.TryRead(ref reader, expected.Format, previousHadExtended: false, out var header), Is.True);
        Assert.That(header, Is.EqualTo(expected));
        Assert.That(reader.Remaining, Is.Zero);
    }

    [TestCaseSource(nameof(MessageHeaders))]
    public void ChunkMessageHeader_GoldenVector_Encodes(string hex, ChunkMessageHeader header)
    {
        var buffer = new byte[15];
        var written = header.Write(buffer);
        Assert.That(Convert.ToHexString(buffer, 0, written), Is.EqualTo(hex));
    }

    [Test]
    public void ChunkMessageHeader_Fmt3AfterExtended_ReadsExtendedField()
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Convert.FromHexString("01000000")));
        Assert.That(ChunkMessageHeader.TryRead(ref reader, 3, previousHadExtended: true, out var header), Is.True);
        Assert.That(header, Is.EqualTo(new ChunkMessageHeader(3, 0x01000000, 0, 0, 0, true)));
    }

    [Test]
    public void ChunkMessageHeader_Fmt0Truncated_NeedsMoreBytes()
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Convert.FromHexString("FFFFFF00000409010000000100")));
        Assert.That(ChunkMessageHeader.TryRead(ref reader, 0, false, out _), Is.False);
    }
}
