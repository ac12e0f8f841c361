using System.Buffers;
using FsCheck;
using FsCheck.Fluent;
using MediaServer.Core.Buffers;
using MediaServer.Core.Flv;
using MediaServer.Core.Media;
using static MediaServer.Tests.Infrastructure.Hex;
using PropertyAttribute = FsCheck.NUnit.PropertyAttribute;

namespace MediaServer.Tests.Flv;

public class FlvFileTests
{
    // "FLV" | version 1 | flags 0x05 (audio 0x04 + video 0x01) | DataOffset 9 | PreviousTagSize0 0
    private const string HeaderAudioVideo = "464C56 | 01 | 05 | 00000009 | 00000000";

    // TagType 9 (video) | DataSize 5 | Timestamp 0x345678 | TimestampExtended 0x12 | StreamID 0 |
    // body 17 02 000000 (H.264 end of sequence) | PreviousTagSize 16 (11 + 5)
    private const string VideoTag = "09 | 000005 | 345678 | 12 | 000000 | 1702000000 | 00000010";

    // TagType 8 (audio) | DataSize 4 | Timestamp 0x000021 | extended 0 | StreamID 0 | AF 01 2110 | PreviousTagSize 15
    private const string AudioTag = "08 | 000004 | 000021 | 00 | 000000 | AF012110 | 0000000F";

    [Test]
    public void WriteHeader_AudioAndVideo_GoldenBytes()
    {
        var output = new ArrayBufferWriter<byte>();

        FlvFileWriter.WriteHeader(output, hasAudio: true, hasVideo: true);

        Assert.That(Format(output.WrittenSpan), Is.EqualTo(Format(Parse(HeaderAudioVideo))));
    }

    [TestCase(true, false, "04")]
    [TestCase(false, true, "01")]
    [TestCase(false, false, "00")]
    public void WriteHeader_Flags_SetTypeFlagBits(bool hasAudio, bool hasVideo, string flags)
    {
        var output = new ArrayBufferWriter<byte>();

        FlvFileWriter.WriteHeader(output, hasAudio, hasVideo);

        Assert.That(Format(output.WrittenSpan.Slice(4, 1)), Is.EqualTo(flags));
    }

    [Test]
    public void WriteTag_VideoTag_GoldenBytes()
    {
        var output = new ArrayBufferWriter<byte>();

        FlvFileWriter.WriteTag(output, FlvTagType.Video, 0x12345678, Parse("1702000000"));

        Assert.That(Format(output.WrittenSpan), Is.EqualTo(Format(Parse(VideoTag))));
    }

    [Test]
    public void WriteFrame_AacFrame_GoldenBytes()
    {
        var payload = MediaBuffer.CopyOf(Parse("2110"));
        var frame = new MediaFrame(MediaKind.Audio, MediaCodec.Aac, FrameFlags.None, 0x21, 0, payload);
        var output = new ArrayBufferWriter<byte>();

        FlvFileWriter.WriteFrame(output, frame);

        Assert.That(Format(output.WrittenSpan), Is.EqualTo(Format(Parse(AudioTag))));
        payload.Release();
    }

    [Test]
    public void TryReadHeader_GoldenHeader_ReadsFlagsAndSkipsPreviousTagSize()
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Parse(HeaderAudioVideo + VideoTag)));

        Assert.That(FlvFileReader.TryReadHeader(ref reader, out var header), Is.True);

        Assert.That(header, Is.EqualTo(new FlvFileHeader(1, HasAudio: true, HasVideo: true)));
        Assert.That(reader.Consumed, Is.EqualTo(13));
    }

    [Test]
    public void TryReadHeader_LargerDataOffset_SkipsToIt()
    {
        // DataOffset 12: three padding bytes before PreviousTagSize0.
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Parse("464C56 01 01 0000000C AAAAAA 00000000" + VideoTag)));

        Assert.That(FlvFileReader.TryReadHeader(ref reader, out var header), Is.True);

        Assert.That(header.HasVideo, Is.True);
        Assert.That(header.HasAudio, Is.False);
        Assert.That(FlvFileReader.TryReadTag(ref reader, out var tag), Is.True);
        Assert.That(tag.Timestamp, Is.EqualTo(0x12345678u));
    }

    [Test]
    public void TryReadTag_GoldenTags_ReadsTypeTimestampAndBody()
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Parse(VideoTag + AudioTag)));

        Assert.That(FlvFileReader.TryReadTag(ref reader, out var video), Is.True);
        Assert.That(FlvFileReader.TryReadTag(ref reader, out var audio), Is.True);
        var atEnd = reader.End;

        Assert.Multiple(() =>
        {
            Assert.That(video.Type, Is.EqualTo(FlvTagType.Video));
            Assert.That(video.Timestamp, Is.EqualTo(0x12345678u));
            Assert.That(Format(video.Body.ToArray()), Is.EqualTo("1702000000"));
            Assert.That(audio.Type, Is.EqualTo(FlvTagType.Audio));
            Assert.That(audio.Timestamp, Is.EqualTo(0x21u));
            Assert.That(Format(audio.Body.ToArray()), Is.EqualTo("AF012110"));
            Assert.That(atEnd, Is.True);
        });
    }

    [Test]
    public void TryReadTag_EveryTruncation_NeedsMoreAndDoesNotAdvance()
    {
        var bytes = Parse(VideoTag);
        for (var length = 0; length < bytes.Length; length++)
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes, 0, length));

            Assert.That(FlvFileReader.TryReadTag(ref reader, out _), Is.False, $"length {length}");
            Assert.That(reader.Consumed, Is.Zero);
        }
    }

    [Test]
    public void TryReadHeader_EveryTruncation_NeedsMoreAndDoesNotAdvance()
    {
        var bytes = Parse(HeaderAudioVideo);
        for (var length = 0; length < bytes.Length; length++)
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes, 0, length));

            Assert.That(FlvFileReader.TryReadHeader(ref reader, out _), Is.False, $"length {length}");
            Assert.That(reader.Consumed, Is.Zero);
        }
    }

    [TestCase("464C57 01 05 00000009 00000000", TestName = "TryReadHeader_BadSignature_InvalidFileHeader")]
    [TestCase("464C56 02 05 00000009 00000000", TestName = "TryReadHeader_Version2_InvalidFileHeader")]
    [TestCase("464C56 01 05 00000008 00000000", TestName = "TryReadHeader_DataOffsetBelow9_InvalidFileHeader")]
    [TestCase("464C56 01 05 7FFFFFFF 00000000", TestName = "TryReadHeader_HugeDataOffset_InvalidFileHeader")]
    public void TryReadHeader_Malformed_Throws(string hex)
    {
        var bytes = Parse(hex);

        var exception = Assert.Throws<FlvFormatException>(() =>
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
            FlvFileReader.TryReadHeader(ref reader, out _);
        });

        Assert.That(exception!.Error, Is.EqualTo(FlvError.InvalidFileHeader));
    }

    [Test]
    public void TryReadTag_FilterBitSet_InvalidTagHeader()
    {
        // 0x29 = Filter (0x20) | video (9): an encrypted tag.
        var bytes = Parse("29 000001 000000 00 000000 17 0000000C");

        var exception = Assert.Throws<FlvFormatException>(() =>
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
            FlvFileReader.TryReadTag(ref reader, out _);
        });

        Assert.That(exception!.Error, Is.EqualTo(FlvError.InvalidTagHeader));
    }

    private static Gen<(FlvTagType Type, uint Timestamp, byte[] Body)> Tags =>
        from type in Gen.Elements(FlvTagType.Audio, FlvTagType.Video, FlvTagType.Script)
        from timestamp in Gen.Choose(int.MinValue, int.MaxValue).Select(t => unchecked((uint)t))
        from length in Gen.Choose(0, 300)
        from body in Gen.Choose(0, 255).Select(b => (byte)b).ArrayOf(length)
        select (type, timestamp, body);

    /// <summary>Writer → reader over any split of the bytes into segments yields the same tags.</summary>
    [Property(MaxTest = 200, Replay = "(20240515,13)")]
    public Property Roundtrip_FlvFile_IsSplitInvariant() => Prop.ForAll(
        Tags.ListOf().Select(l => l.ToArray()).ToArbitrary(),
        Gen.Choose(1, 64).ToArbitrary(),
        (tags, segmentSize) =>
        {
            var output = new ArrayBufferWriter<byte>();
            FlvFileWriter.WriteHeader(output, hasAudio: true, hasVideo: false);
            foreach (var (type, timestamp, body) in tags)
            {
                FlvFileWriter.WriteTag(output, type, timestamp, body);
            }

            var reader = new SequenceReader<byte>(Segmented(output.WrittenMemory, segmentSize));
            if (!FlvFileReader.TryReadHeader(ref reader, out var header) || !header.HasAudio || header.HasVideo)
            {
                return false;
            }

            foreach (var (type, timestamp, body) in tags)
            {
                if (!FlvFileReader.TryReadTag(ref reader, out var tag)
                    || tag.Type != type || tag.Timestamp != timestamp || !tag.Body.ToArray().AsSpan().SequenceEqual(body))
                {
                    return false;
                }
            }

            return reader.End && !FlvFileReader.TryReadTag(ref reader, out _);
        });

    /// <summary>A sequence of segments of at most <paramref name="segmentSize"/> bytes.</summary>
    internal static ReadOnlySequence<byte> Segmented(ReadOnlyMemory<byte> memory, int segmentSize)
    {
        if (memory.Length <= segmentSize)
        {
            return new ReadOnlySequence<byte>(memory);
        }

        var first = new Segment(memory[..segmentSize], 0);
        var last = first;
        for (var offset = segmentSize; offset < memory.Length; offset += segmentSize)
        {
            last = last.Append(memory.Slice(offset, Math.Min(segmentSize, memory.Length - offset)));
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
