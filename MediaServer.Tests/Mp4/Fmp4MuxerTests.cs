using System.Buffers;
using MediaServer.Core.Buffers;
using MediaServer.Core.Media;
using MediaServer.Core.Mp4;
using MediaServer.Tests.Infrastructure;
using static MediaServer.Tests.Mpegts.TsTestStreams;

namespace MediaServer.Tests.Mp4;

public class Fmp4MuxerTests
{
    /// <summary>hvcC of <c>ffmpeg -f lavfi -i testsrc=size=320x240 -c:v libx265 -x265-params info=0</c> (ffmpeg 5.1):
    /// Main profile, level 2 (60); VPS, SPS (320x240, no conformance window), PPS arrays.</summary>
    public const string X265MainHvcC =
        "0101600000009000000000003cf000fcfdf8f800000f03200001001840010c01ffff01600000030090000003000003003c959809210001002a42010101600000030090000003000003003ca00a080f165959a4932bc05a02000003000200000300321022000100074401c172b46240";

    [Test]
    public void WriteInitSegment_H264AndAac_GoldenBytes()
    {
        using var muxer = new Fmp4Muxer();
        Configure(muxer, AvcConfig(), AacConfig());
        var output = new ArrayBufferWriter<byte>();

        muxer.WriteInitSegment(output);

        Assert.That(Hex.Format(output.WrittenSpan), Is.EqualTo(Hex.Format(Hex.Parse(Fmp4GoldenVectors.AvcAacInit))));
    }

    [Test]
    public void Flush_ThreeVideoTwoAudioSamples_GoldenFragment()
    {
        using var muxer = new Fmp4Muxer();
        Configure(muxer, AvcConfig(), AacConfig());
        var output = new ArrayBufferWriter<byte>();

        Write(muxer, output,
            Video(MediaCodec.H264, 0, 0, true, new byte[] { 0x65, 0x88, 0x84 }),
            Aac(0, [0x21, 0x00, 0x49, 0x90]),
            Video(MediaCodec.H264, 40, 40, false, new byte[] { 0x41, 0x9a }),
            Aac(23, [0x21, 0x00, 0x4a]),
            Video(MediaCodec.H264, 80, -40, false, new byte[] { 0x01, 0x9e }));
        Assert.That(output.WrittenCount, Is.Zero, "Write holds samples until Flush");
        muxer.Flush(output);

        Assert.That(Hex.Format(output.WrittenSpan), Is.EqualTo(Hex.Format(Hex.Parse(Fmp4GoldenVectors.AvcAacFragment))));
        Assert.That(muxer.SequenceNumber, Is.EqualTo(1u));
        Assert.That(muxer.HasPendingSamples, Is.False);
    }

    [Test]
    public void WriteInitSegment_Hevc_Hvc1WithRecordAndSizeFromSps()
    {
        using var muxer = new Fmp4Muxer();
        Configure(muxer, MediaTestData.Frame(MediaKind.Video, MediaCodec.Hevc, FrameFlags.Config | FrameFlags.Keyframe, 0, 0, Hex.Parse(X265MainHvcC)));
        var output = new ArrayBufferWriter<byte>();

        muxer.WriteInitSegment(output);

        var boxes = Mp4TestReader.Read(output.WrittenSpan);
        var moov = boxes[1];
        Assert.That(moov.All("trak").Count(), Is.EqualTo(1));
        Assert.That(moov.Child("mvhd").U32(96), Is.EqualTo(2u), "next_track_ID");
        var trak = moov.Child("trak");
        Assert.That(trak.Child("tkhd").U32(12), Is.EqualTo(1u), "track_ID");
        Assert.That(trak.Child("tkhd").U32(76), Is.EqualTo(320u << 16));
        Assert.That(trak.Child("tkhd").U32(80), Is.EqualTo(240u << 16));
        var stsd = trak.Child("mdia").Child("minf").Child("stbl").Child("stsd");

        // hvc1 (205 = 8 + 78 + hvcC 8 + 111): as avc1 with 320 x 240, then the record as received.
        Assert.That(Hex.Format(stsd.Payload.AsSpan(8)), Is.EqualTo(Hex.Format(Hex.Parse(
            "000000cd 68766331 000000000000 0001 0000 0000 000000000000000000000000 0140 00f0"
            + "00480000 00480000 00000000 0001" + new string('0', 64) + "0018 ffff"
            + "00000077 68766343" + X265MainHvcC))));
    }

    [Test]
    public void WriteInitSegment_AudioOnly_Track2NextTrack3()
    {
        using var muxer = new Fmp4Muxer();
        Configure(muxer, AacConfig());
        var output = new ArrayBufferWriter<byte>();

        muxer.WriteInitSegment(output);

        var moov = Mp4TestReader.Read(output.WrittenSpan)[1];
        Assert.That(moov.Child("mvhd").U32(96), Is.EqualTo(3u));
        Assert.That(moov.Child("trak").Child("tkhd").U32(12), Is.EqualTo(2u));
        Assert.That(moov.Child("mvex").Child("trex").U32(4), Is.EqualTo(2u));
    }

    [Test]
    public void WriteInitSegment_NothingConfigured_Throws()
    {
        using var muxer = new Fmp4Muxer();
        Assert.That(muxer.HasInitSegment, Is.False);
        Assert.Throws<InvalidOperationException>(() => muxer.WriteInitSegment(new ArrayBufferWriter<byte>()));
    }

    [Test]
    public void Configure_SameRecordAgain_VersionStaysNewRecordMovesItOn()
    {
        using var muxer = new Fmp4Muxer();
        Assert.That(muxer.InitSegmentVersion, Is.Zero);
        Configure(muxer, AvcConfig());
        Assert.That(muxer.InitSegmentVersion, Is.EqualTo(1));
        Configure(muxer, AvcConfig(), AacConfig());
        Assert.That(muxer.InitSegmentVersion, Is.EqualTo(2));
        Configure(muxer, AacConfig(), MediaTestData.Frame(MediaKind.Audio, MediaCodec.Aac, FrameFlags.Config, 0, 0, [0x11, 0x90]));
        Assert.That(muxer.InitSegmentVersion, Is.EqualTo(3));
        Assert.That(muxer.AudioTrack!.Timescale, Is.EqualTo(48000u));
    }

    [Test]
    public void Write_BeforeConfig_NoConfigAndNothingHeld()
    {
        using var muxer = new Fmp4Muxer();
        var output = new ArrayBufferWriter<byte>();

        Assert.That(WriteOne(muxer, output, Video(MediaCodec.H264, 0, 0, true, Nal(0x65, 50, 1))), Is.EqualTo(MuxRejection.NoConfig));
        Assert.That(WriteOne(muxer, output, Aac(0, new byte[20])), Is.EqualTo(MuxRejection.NoConfig));
        Configure(muxer, AvcConfig());
        Assert.That(WriteOne(muxer, output, Aac(0, new byte[20])), Is.EqualTo(MuxRejection.NoConfig), "audio has no config yet");
        Assert.That(WriteOne(muxer, output, Video(MediaCodec.Hevc, 0, 0, true, Nal(0x26, 50, 1))), Is.EqualTo(MuxRejection.NoConfig), "other codec than configured");

        Assert.That(muxer.HasPendingSamples, Is.False);
        Assert.That(muxer.RejectedFrames, Is.EqualTo(4));
        muxer.Flush(output);
        Assert.That(output.WrittenCount, Is.Zero);
    }

    [TestCase(MediaKind.Audio, MediaCodec.Mp3)]
    [TestCase(MediaKind.Audio, MediaCodec.Opus)]
    [TestCase(MediaKind.Video, MediaCodec.Av1)]
    [TestCase(MediaKind.Video, MediaCodec.Aac)]
    public void Write_CodecNotCarried_UnsupportedCodec(MediaKind kind, MediaCodec codec)
    {
        using var muxer = new Fmp4Muxer();
        Assert.That(muxer.IsSupported(codec), Is.EqualTo(codec == MediaCodec.Aac));
        Assert.That(WriteOne(muxer, new ArrayBufferWriter<byte>(), MediaTestData.Frame(kind, codec, FrameFlags.Config, 0, 0, [1, 2, 3])), Is.EqualTo(MuxRejection.UnsupportedCodec));
    }

    [Test]
    public void Configure_UnparsableRecord_InvalidConfig()
    {
        using var muxer = new Fmp4Muxer();
        Assert.That(muxer.Configure(MediaTestData.Frame(MediaKind.Video, MediaCodec.H264, FrameFlags.Config, 0, 0, [1, 0x64])), Is.EqualTo(MuxRejection.InvalidConfig));
        Assert.That(muxer.HasInitSegment, Is.False);
    }

    [Test]
    public void Write_LyingNalLengthOrNegativeDts_MalformedFrame()
    {
        using var muxer = new Fmp4Muxer();
        Configure(muxer, AvcConfig());
        var output = new ArrayBufferWriter<byte>();

        Assert.That(WriteOne(muxer, output, MediaTestData.Frame(MediaKind.Video, MediaCodec.H264, FrameFlags.Keyframe, 0, 0, [0, 0, 0, 9, 0x65, 1])), Is.EqualTo(MuxRejection.MalformedFrame));
        Assert.That(WriteOne(muxer, output, Video(MediaCodec.H264, -40, 0, true, Nal(0x65, 10, 1))), Is.EqualTo(MuxRejection.MalformedFrame));
        Assert.That(muxer.HasPendingSamples, Is.False);
    }

    [Test]
    public void Flush_SecondFragment_TfdtIsExactDecodeTimeAndLastDurationCarried()
    {
        using var muxer = new Fmp4Muxer();
        Configure(muxer, AvcConfig(), AacConfig());
        var output = new ArrayBufferWriter<byte>();
        Write(muxer, output, Video(MediaCodec.H264, 1000, 0, true, Nal(0x65, 10, 1)), Aac(1000, [1, 2]), Video(MediaCodec.H264, 1033, 0, false, Nal(0x41, 10, 2)));
        muxer.Flush(output);
        Write(muxer, output, Video(MediaCodec.H264, 1067, 0, false, Nal(0x41, 10, 3)), Aac(1023, [1, 2]));
        muxer.Flush(output);

        var moofs = Mp4TestReader.Read(output.WrittenSpan).Where(b => b.Type == "moof").ToList();
        Assert.That(moofs, Has.Count.EqualTo(2));
        var video = moofs.Select(m => m.All("traf").First()).ToList();
        var audio = moofs.Select(m => m.All("traf").Last()).ToList();

        // tfdt: 1000 ms = 90000 ticks, then the exact 1067 ms = 96030 (not 90000 + 2 × 2970).
        Assert.That(video[0].Child("tfdt").U64(4), Is.EqualTo(90_000UL));
        Assert.That(video[1].Child("tfdt").U64(4), Is.EqualTo(96_030UL));

        // The second fragment's only sample takes the last known delta (2970), the very first AAC frame 1024.
        Assert.That(video[1].Child("trun").U32(12), Is.EqualTo(2970u));
        Assert.That(audio[0].Child("trun").U32(12), Is.EqualTo(1024u));
        Assert.That(audio[1].Child("tfdt").U64(4), Is.EqualTo((ulong)(1023 * 44100 / 1000)));
    }

    [Test]
    public void Write_DecodeTimeGoesBack_FragmentWrittenFirst()
    {
        using var muxer = new Fmp4Muxer();
        Configure(muxer, AvcConfig());
        var output = new ArrayBufferWriter<byte>();
        Write(muxer, output, Video(MediaCodec.H264, 5000, 0, true, Nal(0x65, 10, 1)), Video(MediaCodec.H264, 5040, 0, false, Nal(0x41, 10, 2)));
        Assert.That(output.WrittenCount, Is.Zero);

        Write(muxer, output, Video(MediaCodec.H264, 0, 0, true, Nal(0x65, 10, 3)));
        Assert.That(muxer.SequenceNumber, Is.EqualTo(1u), "the samples before the reset went out as one fragment");
        muxer.Flush(output);

        var trafs = Mp4TestReader.Read(output.WrittenSpan).Where(b => b.Type == "moof").Select(m => m.Child("traf")).ToList();
        Assert.That(trafs.Select(t => t.Child("tfdt").U64(4)), Is.EqualTo(new[] { 450_000UL, 0UL }));
        Assert.That(trafs.Select(t => t.Child("trun").U32(4)), Is.EqualTo(new[] { 2u, 1u }), "sample counts");
    }

    [Test]
    public void WriteFlushDispose_PayloadReferencesHeldUntilWrittenThenReleased()
    {
        var muxer = new Fmp4Muxer();
        Configure(muxer, AvcConfig());
        var output = new ArrayBufferWriter<byte>();
        var first = Video(MediaCodec.H264, 0, 0, true, Nal(0x65, 10, 1));
        var second = Video(MediaCodec.H264, 40, 0, false, Nal(0x41, 10, 2));

        Assert.That(muxer.Write(first, output), Is.EqualTo(MuxRejection.None));
        Assert.That(first.Payload.RefCount, Is.EqualTo(2));
        muxer.Flush(output);
        Assert.That(first.Payload.RefCount, Is.EqualTo(1));

        Assert.That(muxer.Write(second, output), Is.EqualTo(MuxRejection.None));
        muxer.Dispose();
        Assert.That(second.Payload.RefCount, Is.EqualTo(1));
        first.Payload.Release();
        second.Payload.Release();
    }

    private static void Configure(Fmp4Muxer muxer, params MediaFrame[] configs)
    {
        foreach (var config in configs)
        {
            Assert.That(muxer.Configure(config), Is.EqualTo(MuxRejection.None));
            config.Payload.Release();
        }
    }

    private static void Write(Fmp4Muxer muxer, IBufferWriter<byte> output, params MediaFrame[] frames)
    {
        foreach (var frame in frames)
        {
            Assert.That(WriteOne(muxer, output, frame), Is.EqualTo(MuxRejection.None));
        }
    }

    private static MuxRejection WriteOne(Fmp4Muxer muxer, IBufferWriter<byte> output, MediaFrame frame)
    {
        try
        {
            return muxer.Write(frame, output);
        }
        finally
        {
            frame.Payload.Release();
        }
    }
}
