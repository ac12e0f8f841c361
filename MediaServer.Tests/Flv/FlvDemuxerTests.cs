using System.Buffers;
using MediaServer.Core.Flv;
using MediaServer.Core.Media;
using MediaServer.Tests.Infrastructure;
using static MediaServer.Tests.Infrastructure.Hex;

namespace MediaServer.Tests.Flv;

public class FlvDemuxerTests
{
    private const long Timestamp = 123_456_789_012;

    private static IEnumerable<TestCaseData> AllVectors() =>
        FlvGoldenVectors.All.Select(v => new TestCaseData(v).SetName("Demux_Golden_" + v.Name));

    private static IEnumerable<TestCaseData> CanonicalVectors() =>
        FlvGoldenVectors.All.Where(v => v.Canonical).Select(v => new TestCaseData(v).SetName("Mux_Golden_" + v.Name));

    [TestCaseSource(nameof(AllVectors))]
    public void Demux_GoldenVector_ProducesFrame(FlvGoldenVector vector)
    {
        var status = FlvDemuxer.Demux(vector.Type, Timestamp, Parse(vector.Body), out var frame, out var unsupported);

        Assert.That(status, Is.EqualTo(FlvDemuxStatus.Frame));
        try
        {
            Assert.Multiple(() =>
            {
                Assert.That(unsupported, Is.Null);
                Assert.That(frame.Kind, Is.EqualTo(vector.Kind));
                Assert.That(frame.Codec, Is.EqualTo(vector.Codec));
                Assert.That(frame.Flags, Is.EqualTo(vector.Flags));
                Assert.That(frame.Timestamp, Is.EqualTo(Timestamp));
                Assert.That(frame.CompositionTime, Is.EqualTo(vector.CompositionTime));
                Assert.That(Format(frame.Span), Is.EqualTo(Format(Parse(vector.Payload))));
                Assert.That(frame.Payload.RefCount, Is.EqualTo(1));
            });
        }
        finally
        {
            frame.Payload.Release();
        }
    }

    [TestCaseSource(nameof(CanonicalVectors))]
    public void Mux_GoldenVector_WritesBody(FlvGoldenVector vector)
    {
        var payload = Core.Buffers.MediaBuffer.CopyOf(Parse(vector.Payload));
        var frame = new MediaFrame(vector.Kind, vector.Codec, vector.Flags, Timestamp, vector.CompositionTime, payload);
        var output = new ArrayBufferWriter<byte>();

        FlvMuxer.WriteTagBody(frame, output);

        Assert.Multiple(() =>
        {
            Assert.That(Format(output.WrittenSpan), Is.EqualTo(Format(Parse(vector.Body))));
            Assert.That(FlvMuxer.GetTagBodyLength(frame), Is.EqualTo(output.WrittenCount));
            Assert.That(FlvMuxer.GetTagType(frame), Is.EqualTo(vector.Type));
        });
        payload.Release();
    }

    [TestCase("22 00", "Sorenson H.263", TestName = "Demux_SorensonH263_Unsupported")]
    [TestCase("13 00", "Screen video", TestName = "Demux_ScreenVideo_Unsupported")]
    [TestCase("14 00", "VP6", TestName = "Demux_Vp6_Unsupported")]
    [TestCase("15 00", "VP6 with alpha", TestName = "Demux_Vp6Alpha_Unsupported")]
    [TestCase("16 00", "Screen video v2", TestName = "Demux_ScreenVideoV2_Unsupported")]
    [TestCase("1F 00", "reserved", TestName = "Demux_ReservedVideoCodecId_Unsupported")]
    [TestCase("91 76703038 00", "VP8", TestName = "Demux_Vp8FourCc_Unsupported")]
    [TestCase("91 61626364 00", "FourCC 'abcd'", TestName = "Demux_UnknownVideoFourCc_UnsupportedWithText")]
    public void Demux_UnsupportedVideo_NamesCodec(string body, string expectedName)
    {
        var status = FlvDemuxer.Demux(FlvTagType.Video, 0, Parse(body), out _, out var name);

        Assert.That(status, Is.EqualTo(FlvDemuxStatus.UnsupportedCodec));
        Assert.That(name, Does.Contain(expectedName));
    }

    [TestCase("0F 00", "Linear PCM", TestName = "Demux_LinearPcm_Unsupported")]
    [TestCase("1F 00", "ADPCM", TestName = "Demux_AdPcm_Unsupported")]
    [TestCase("3F 00", "little endian", TestName = "Demux_LinearPcmLittleEndian_Unsupported")]
    [TestCase("62 00", "Nellymoser", TestName = "Demux_Nellymoser_Unsupported")]
    [TestCase("72 00", "G.711 A-law", TestName = "Demux_G711ALaw_Unsupported")]
    [TestCase("82 00", "G.711 mu-law", TestName = "Demux_G711MuLaw_Unsupported")]
    [TestCase("B2 00", "Speex", TestName = "Demux_Speex_Unsupported")]
    [TestCase("F2 00", "device-specific", TestName = "Demux_DeviceSpecificSound_Unsupported")]
    [TestCase("91 76 6F 72 62 00", "FourCC 'vorb'", TestName = "Demux_UnknownAudioFourCc_UnsupportedWithText")]
    public void Demux_UnsupportedAudio_NamesCodec(string body, string expectedName)
    {
        var status = FlvDemuxer.Demux(FlvTagType.Audio, 0, Parse(body), out _, out var name);

        Assert.That(status, Is.EqualTo(FlvDemuxStatus.UnsupportedCodec));
        Assert.That(name, Does.Contain(expectedName));
    }

    [Test]
    public void Demux_UnknownFourCcTwice_ReturnsSameCachedName()
    {
        FlvDemuxer.Demux(FlvTagType.Video, 0, Parse("91 78797A31"), out _, out var first);
        FlvDemuxer.Demux(FlvTagType.Video, 0, Parse("91 78797A31"), out _, out var second);

        Assert.That(second, Is.SameAs(first));
        Assert.That(first, Is.EqualTo("FourCC 'xyz1'"));
    }

    // Video: UB[4] frame type 5 (command) | UB[4] codec 7 | UI8 VideoCommand.
    [TestCase(FlvTagType.Video, "57 00", TestName = "Demux_LegacyVideoCommand_Ignored")]
    // Enhanced: 1 | frame type 5 | CodedFrames | UI8 VideoCommand (no FourCC).
    [TestCase(FlvTagType.Video, "D1 01", TestName = "Demux_EnhancedVideoCommand_Ignored")]
    [TestCase(FlvTagType.Video, "94 68766331 02000A", TestName = "Demux_EnhancedVideoMetadata_Ignored")]
    [TestCase(FlvTagType.Video, "D4 68766331 02000A", TestName = "Demux_EnhancedVideoMetadataWithCommandFrameType_Ignored")]
    [TestCase(FlvTagType.Video, "95 68766331 0000", TestName = "Demux_Mpeg2TsSequenceStart_Ignored")]
    [TestCase(FlvTagType.Video, "96 13 61763031 01 000001 AA", TestName = "Demux_MultitrackWithoutTrackZero_Ignored")]
    [TestCase(FlvTagType.Audio, "94 4F707573 01 02 00000003", TestName = "Demux_AudioMultichannelConfig_Ignored")]
    [TestCase(FlvTagType.Video, "", TestName = "Demux_EmptyVideo_Ignored")]
    [TestCase(FlvTagType.Audio, "", TestName = "Demux_EmptyAudio_Ignored")]
    [TestCase(FlvTagType.Script, "", TestName = "Demux_EmptyScript_Ignored")]
    [TestCase((FlvTagType)15, "00 02", TestName = "Demux_OtherTagType_Ignored")]
    public void Demux_NothingForTheModel_Ignored(FlvTagType type, string body)
    {
        var status = FlvDemuxer.Demux(type, 0, Parse(body), out _, out var name);

        Assert.That(status, Is.EqualTo(FlvDemuxStatus.Ignored));
        Assert.That(name, Is.Null);
    }

    [TestCase(FlvTagType.Video, "17 01 0000", FlvError.TruncatedHeader, TestName = "Demux_AvcShorterThanHeader_TruncatedHeader")]
    [TestCase(FlvTagType.Video, "17", FlvError.TruncatedHeader, TestName = "Demux_AvcOnlyTagHeader_TruncatedHeader")]
    [TestCase(FlvTagType.Audio, "AF", FlvError.TruncatedHeader, TestName = "Demux_AacWithoutPacketType_TruncatedHeader")]
    [TestCase(FlvTagType.Video, "91 6876", FlvError.TruncatedHeader, TestName = "Demux_ShortFourCc_TruncatedHeader")]
    [TestCase(FlvTagType.Video, "91 68766331 00", FlvError.TruncatedHeader, TestName = "Demux_HevcCodedFramesShortCts_TruncatedHeader")]
    [TestCase(FlvTagType.Video, "97 05 0001", FlvError.TruncatedHeader, TestName = "Demux_ModExDataPastEnd_TruncatedHeader")]
    [TestCase(FlvTagType.Video, "97 FF 00", FlvError.TruncatedHeader, TestName = "Demux_ModExShortUi16Size_TruncatedHeader")]
    [TestCase(FlvTagType.Video, "97", FlvError.TruncatedHeader, TestName = "Demux_ModExWithoutSize_TruncatedHeader")]
    [TestCase(FlvTagType.Video, "96", FlvError.TruncatedHeader, TestName = "Demux_MultitrackWithoutTypeByte_TruncatedHeader")]
    [TestCase(FlvTagType.Video, "96 01 68766331", FlvError.TruncatedHeader, TestName = "Demux_OneTrackWithoutTrackId_TruncatedHeader")]
    [TestCase(FlvTagType.Video, "96 11 68766331 00 00", FlvError.TruncatedHeader, TestName = "Demux_ManyTracksShortTrackHeader_TruncatedHeader")]
    [TestCase(FlvTagType.Audio, "91 4F70", FlvError.TruncatedHeader, TestName = "Demux_AudioShortFourCc_TruncatedHeader")]
    [TestCase(FlvTagType.Audio, "95", FlvError.TruncatedHeader, TestName = "Demux_AudioMultitrackWithoutTypeByte_TruncatedHeader")]
    [TestCase(FlvTagType.Video, "17 03 000000", FlvError.InvalidPacketType, TestName = "Demux_AvcPacketType3_InvalidPacketType")]
    [TestCase(FlvTagType.Video, "2C FF 000000", FlvError.InvalidPacketType, TestName = "Demux_LegacyHevcPacketType255_InvalidPacketType")]
    [TestCase(FlvTagType.Audio, "AF 02 00", FlvError.InvalidPacketType, TestName = "Demux_AacPacketType2_InvalidPacketType")]
    [TestCase(FlvTagType.Video, "98 68766331", FlvError.InvalidPacketType, TestName = "Demux_VideoPacketType8_InvalidPacketType")]
    [TestCase(FlvTagType.Audio, "93 4F707573", FlvError.InvalidPacketType, TestName = "Demux_AudioPacketType3_InvalidPacketType")]
    [TestCase(FlvTagType.Audio, "9F 4F707573", FlvError.InvalidPacketType, TestName = "Demux_AudioPacketType15_InvalidPacketType")]
    [TestCase(FlvTagType.Script, "03 000A", FlvError.InvalidScriptData, TestName = "Demux_ScriptNotStartingWithString_InvalidScriptData")]
    [TestCase(FlvTagType.Script, "02 0010 6F6E", FlvError.InvalidScriptData, TestName = "Demux_ScriptNamePastEnd_InvalidScriptData")]
    [TestCase(FlvTagType.Script, "02 00", FlvError.InvalidScriptData, TestName = "Demux_ScriptShortNameLength_InvalidScriptData")]
    [TestCase(FlvTagType.Script, "02 000D 40736574446174614672616D65", FlvError.InvalidScriptData, TestName = "Demux_SetDataFrameAlone_InvalidScriptData")]
    [TestCase(FlvTagType.Video, "07 01 000000", FlvError.InvalidFrameType, TestName = "Demux_FrameType0_InvalidFrameType")]
    [TestCase(FlvTagType.Video, "67 01 000000", FlvError.InvalidFrameType, TestName = "Demux_FrameType6_InvalidFrameType")]
    [TestCase(FlvTagType.Video, "F1 68766331 000000", FlvError.InvalidFrameType, TestName = "Demux_EnhancedFrameType7_InvalidFrameType")]
    [TestCase(FlvTagType.Video, "96 31 68766331 00", FlvError.InvalidMultitrack, TestName = "Demux_ReservedMultitrackType_InvalidMultitrack")]
    [TestCase(FlvTagType.Video, "96 16 68766331 00", FlvError.InvalidMultitrack, TestName = "Demux_NestedMultitrack_InvalidMultitrack")]
    [TestCase(FlvTagType.Video, "96 11 68766331 00 000010 AA", FlvError.InvalidMultitrack, TestName = "Demux_TrackSizePastEnd_InvalidMultitrack")]
    [TestCase(FlvTagType.Audio, "95 15 4F707573 00", FlvError.InvalidMultitrack, TestName = "Demux_AudioNestedMultitrack_InvalidMultitrack")]
    public void Demux_Malformed_Throws(FlvTagType type, string body, FlvError expected)
    {
        var bytes = Parse(body);

        var exception = Assert.Throws<FlvFormatException>(() => FlvDemuxer.Demux(type, 0, bytes, out _, out _));

        Assert.That(exception!.Error, Is.EqualTo(expected));
    }

    [Test]
    public void Demux_BodyLargerThanUi24_TooLarge()
    {
        var body = new byte[FlvLimits.MaxTagBodyLength + 1];
        body[0] = 0xAF;
        body[1] = 0x01;

        var exception = Assert.Throws<FlvFormatException>(() => FlvDemuxer.Demux(FlvTagType.Audio, 0, body, out _, out _));

        Assert.That(exception!.Error, Is.EqualTo(FlvError.TooLarge));
    }

    [Test]
    public void Demux_BodyOfExactlyUi24Max_Accepted()
    {
        var body = new byte[FlvLimits.MaxTagBodyLength];
        body[0] = 0xAF;
        body[1] = 0x01;

        var status = FlvDemuxer.Demux(FlvTagType.Audio, 0, body, out var frame, out _);

        Assert.That(status, Is.EqualTo(FlvDemuxStatus.Frame));
        Assert.That(frame.Payload.Length, Is.EqualTo(FlvLimits.MaxTagBodyLength - 2));
        frame.Payload.Release();
    }

    [Test]
    public void FourCcConstants_MatchTheirAsciiText()
    {
        Assert.Multiple(() =>
        {
            Assert.That(FourCc("avc1"), Is.EqualTo(FlvFourCc.Avc1));
            Assert.That(FourCc("hvc1"), Is.EqualTo(FlvFourCc.Hvc1));
            Assert.That(FourCc("av01"), Is.EqualTo(FlvFourCc.Av01));
            Assert.That(FourCc("vp09"), Is.EqualTo(FlvFourCc.Vp09));
            Assert.That(FourCc("vp08"), Is.EqualTo(FlvFourCc.Vp08));
            Assert.That(FourCc("mp4a"), Is.EqualTo(FlvFourCc.Mp4a));
            Assert.That(FourCc("Opus"), Is.EqualTo(FlvFourCc.Opus));
            Assert.That(FourCc("fLaC"), Is.EqualTo(FlvFourCc.Flac));
            Assert.That(FourCc("ac-3"), Is.EqualTo(FlvFourCc.Ac3));
            Assert.That(FourCc("ec-3"), Is.EqualTo(FlvFourCc.Eac3));
            Assert.That(FourCc(".mp3"), Is.EqualTo(FlvFourCc.Mp3));
        });

        static uint FourCc(string text) => System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(System.Text.Encoding.ASCII.GetBytes(text));
    }

    [Test]
    public void Demux_SteadyState_AllocatesNothing()
    {
        byte[][] bodies =
        [
            Parse("27 01 FFFFD8 00000002 419A"),
            Parse("A1 " + Ascii("hvc1") + " 000021 00000003 020100"),
            Parse("97 02 000102 01 " + Ascii("hvc1") + " 000010 AABB"),
            Parse("96 13 " + Ascii("av01") + " 01 000002 AAAA 00 000002 BBBB"),
            Parse("AF 01 211B 8000"),
            Parse("91 " + Ascii("Opus") + " FC FF FE"),
            Parse("02 000D " + Ascii("@setDataFrame") + " 02 0001 61 05"),
        ];
        FlvTagType[] types = [FlvTagType.Video, FlvTagType.Video, FlvTagType.Video, FlvTagType.Video, FlvTagType.Audio, FlvTagType.Audio, FlvTagType.Script];

        // Also unsupported-codec and ignored paths: they must not allocate per message either.
        var unknownFourCc = Parse("91 78797A31 00");
        var command = Parse("57 00");

        void RunOnce()
        {
            for (var i = 0; i < bodies.Length; i++)
            {
                FlvDemuxer.Demux(types[i], i, bodies[i], out var frame, out _);
                frame.Payload.Release();
            }

            FlvDemuxer.Demux(FlvTagType.Video, 0, unknownFourCc, out _, out _);
            FlvDemuxer.Demux(FlvTagType.Video, 0, command, out _, out _);
        }

        for (var i = 0; i < 100; i++)
        {
            RunOnce();
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            RunOnce();
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(allocated, Is.Zero);
    }

    [Test]
    public void Mux_SteadyState_AllocatesNothing()
    {
        var payload = Core.Buffers.MediaBuffer.CopyOf(Parse("00000002 419A"));
        MediaFrame[] frames =
        [
            new(MediaKind.Video, MediaCodec.H264, FrameFlags.None, 0, -40, payload),
            new(MediaKind.Video, MediaCodec.Hevc, FrameFlags.Keyframe, 0, 33, payload),
            new(MediaKind.Audio, MediaCodec.Aac, FrameFlags.None, 0, 0, payload),
            new(MediaKind.Audio, MediaCodec.Opus, FrameFlags.None, 0, 0, payload),
        ];
        var output = new ArrayBufferWriter<byte>(4096);

        void RunOnce()
        {
            foreach (var frame in frames)
            {
                output.ResetWrittenCount();
                _ = FlvMuxer.GetTagBodyLength(frame);
                FlvMuxer.WriteTagBody(frame, output);
            }
        }

        RunOnce();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            RunOnce();
        }

        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
        payload.Release();
    }

    [Test]
    public void Mux_CompositionTimeBeyondSi24_Throws()
    {
        var payload = Core.Buffers.MediaBuffer.CopyOf([1]);
        var frame = new MediaFrame(MediaKind.Video, MediaCodec.H264, FrameFlags.None, 0, FlvLimits.MaxCompositionTime + 1, payload);

        Assert.Throws<ArgumentOutOfRangeException>(() => FlvMuxer.WriteTagBody(frame, new ArrayBufferWriter<byte>()));
        payload.Release();
    }

    [Test]
    public void Mux_UnknownCodec_Throws()
    {
        var payload = Core.Buffers.MediaBuffer.CopyOf([1]);
        var frame = new MediaFrame(MediaKind.Video, MediaCodec.Aac, FrameFlags.None, 0, 0, payload);

        Assert.Throws<ArgumentException>(() => FlvMuxer.GetTagBodyLength(frame));
        payload.Release();
    }

    [Test]
    public async Task Mux_LargePayloadIntoPipeWriter_WritesWholeBodyAcrossSegments()
    {
        var bytes = new byte[300_000];
        new Random(7).NextBytes(bytes);
        var payload = Core.Buffers.MediaBuffer.CopyOf(bytes);
        var frame = new MediaFrame(MediaKind.Video, MediaCodec.Hevc, FrameFlags.Keyframe, 0, 66, payload);
        var pipe = new System.IO.Pipelines.Pipe(new System.IO.Pipelines.PipeOptions(minimumSegmentSize: 4096, pauseWriterThreshold: 0));

        FlvMuxer.WriteTagBody(frame, pipe.Writer);
        await pipe.Writer.CompleteAsync();
        var result = await pipe.Reader.ReadAsync();
        var written = result.Buffer.ToArray();
        pipe.Reader.AdvanceTo(result.Buffer.End);

        Assert.That(written, Has.Length.EqualTo(FlvMuxer.GetTagBodyLength(frame)));
        Assert.That(Format(written.AsSpan(0, 8)), Is.EqualTo("91" + Ascii("hvc1") + "000042"));
        Assert.That(written.AsSpan(8).SequenceEqual(bytes), Is.True);
        payload.Release();
    }
}
