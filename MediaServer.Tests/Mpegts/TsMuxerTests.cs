using System.Buffers;
using MediaServer.Core.Media;
using MediaServer.Core.Mpegts;
using MediaServer.Tests.Infrastructure;
using static MediaServer.Tests.Mpegts.TsTestStreams;

namespace MediaServer.Tests.Mpegts;

public class TsMuxerTests
{
    [Test]
    public void BeginSegment_H264AndAac_GoldenPatPmt()
    {
        var muxer = new TsMuxer();
        var output = new ArrayBufferWriter<byte>();
        Write(muxer, output, AvcConfig());
        Write(muxer, output, AacConfig());

        muxer.BeginSegment(output);

        var ts = output.WrittenSpan;
        Assert.That(ts.Length, Is.EqualTo(2 * 188));

        // PAT packet: 47 40 00 10 = sync, PUSI, PID 0, payload only, CC 0 | 00 pointer_field
        // 00 table_id PAT | b0 0d: syntax 1, '0', '11', section_length 13 | 0001 transport_stream_id 1
        // c1: '11', version 0, current | 00 00 section 0 of 0 | 0001 program 1 | f0 00: '111', PMT PID 0x1000
        // 2a b1 04 b2 CRC (the bytes ffmpeg writes), then 0xFF stuffing.
        Assert.That(Convert.ToHexStringLower(ts[..21]), Is.EqualTo("474000100000b00d0001c100000001f0002ab104b2"));
        Assert.That(ts[21..188].ToArray(), Is.All.EqualTo(0xFF));

        // PMT packet: 47 50 00 10 = PUSI, PID 0x1000, CC 0 | 00 pointer_field
        // 02 table_id PMT | b0 17 section_length 23 | 0001 program 1 | c1 version 0 | 00 00
        // e1 00 PCR PID 0x100 | f0 00 no program info
        // 1b e1 00 f0 00: H.264 on PID 0x100 | 0f e1 01 f0 00: AAC ADTS on PID 0x101 | 2f 44 b9 9b CRC (as ffmpeg)
        Assert.That(Convert.ToHexStringLower(ts[188..(188 + 31)]), Is.EqualTo("475000100002b0170001c10000e100f0001be100f0000fe101f0002f44b99b"));
        Assert.That(ts[(188 + 31)..].ToArray(), Is.All.EqualTo(0xFF));
    }

    [Test]
    public void BeginSegment_AudioOnly_PcrOnAudioPid()
    {
        var muxer = new TsMuxer();
        var output = new ArrayBufferWriter<byte>();
        Write(muxer, output, AacConfig());

        muxer.BeginSegment(output);

        var demux = TsTestDemuxer.Parse(output.WrittenSpan);
        Assert.That(demux.Errors, Is.Empty);
        // 02 b0 12 0001 c1 0000 | e1 01 PCR PID 0x101 | f000 | 0f e1 01 f0 00 | CRC
        Assert.That(Convert.ToHexStringLower(demux.Pmts.Single().Section), Is.EqualTo("02b0120001c10000e101f0000fe101f000ece2b094"));
    }

    [Test]
    public void BeginSegment_Repeated_CountersContinueVersionStays()
    {
        var muxer = new TsMuxer();
        var output = new ArrayBufferWriter<byte>();
        Write(muxer, output, AvcConfig());
        for (var i = 0; i < 20; i++)
        {
            muxer.BeginSegment(output);
        }

        var demux = TsTestDemuxer.Parse(output.WrittenSpan);
        Assert.That(demux.Errors, Is.Empty);
        Assert.That(demux.Pmts.Select(p => p.Version), Is.All.Zero);
        Assert.That(demux.Packets.Where(p => p.Pid == 0).Select(p => p.ContinuityCounter), Is.EqualTo(Enumerable.Range(0, 20).Select(i => i % 16)));
    }

    [Test]
    public void Write_MediaBeforeConfig_ReturnsFalseWritesNothing()
    {
        var muxer = new TsMuxer();
        var output = new ArrayBufferWriter<byte>();

        Assert.Multiple(() =>
        {
            Assert.That(Write(muxer, output, Video(MediaCodec.H264, 0, 0, true, Nal(0x65, 50, 1))), Is.False);
            Assert.That(Write(muxer, output, Aac(0, new byte[20])), Is.False);
            Assert.That(output.WrittenCount, Is.Zero);
            Assert.That(muxer.RejectedFrames, Is.EqualTo(2));
            Assert.That(muxer.LastRejection, Is.EqualTo(MuxRejection.NoConfig));
        });
    }

    [TestCase(MediaKind.Video, MediaCodec.Av1)]
    [TestCase(MediaKind.Video, MediaCodec.Vp9)]
    [TestCase(MediaKind.Audio, MediaCodec.Opus)]
    [TestCase(MediaKind.Audio, MediaCodec.H264)]
    public void Write_UnsupportedCodec_ReturnsFalseWritesNothing(MediaKind kind, MediaCodec codec)
    {
        var muxer = new TsMuxer();
        var output = new ArrayBufferWriter<byte>();
        Write(muxer, output, AvcConfig());

        var written = Write(muxer, output, MediaTestData.Frame(kind, codec, FrameFlags.Keyframe, 0, 0, [1, 2, 3]));

        Assert.That(written, Is.False);
        Assert.That(output.WrittenCount, Is.Zero);
        Assert.That(muxer.LastRejection, Is.EqualTo(MuxRejection.UnsupportedCodec));
    }

    [Test]
    public void Write_ScriptData_ReturnsFalseNotCountedAsRejection()
    {
        var muxer = new TsMuxer();
        var output = new ArrayBufferWriter<byte>();

        Assert.That(Write(muxer, output, MediaTestData.Frame(MediaKind.Data, MediaCodec.Script, FrameFlags.None, 0, 0, [2, 0, 1, 0x61])), Is.False);

        Assert.That(output.WrittenCount, Is.Zero);
        Assert.That(muxer.RejectedFrames, Is.Zero);
    }

    [Test]
    public void Write_TimelineResetByPublisherReconnect_PcrFollowsDts()
    {
        var frames = new List<MediaFrame> { AvcConfig() };
        frames.Add(Video(MediaCodec.H264, 600_000, 0, true, Nal(0x65, 10, 1)));
        frames.Add(Video(MediaCodec.H264, 600_040, 0, false, Nal(0x41, 10, 2)));
        frames.Add(Video(MediaCodec.H264, 0, 0, true, Nal(0x65, 10, 3)).WithFlags(FrameFlags.Keyframe | FrameFlags.Discontinuity));
        frames.Add(Video(MediaCodec.H264, 40, 0, false, Nal(0x41, 10, 4)));

        var demux = TsTestDemuxer.Parse(Mux(new TsMuxer(), [.. frames]));

        Assert.That(demux.Errors, Is.Empty);
        Assert.That(demux.Pcrs.Select(p => p.Pcr27MHz / 300), Is.EqualTo(new[] { Clock(600_000) - 9000, Clock(600_040) - 9000, Clock(0) - 9000, Clock(40) - 9000 }));
    }

    [Test]
    public void Write_SmallDtsStepBack_PcrHeld()
    {
        var frames = new List<MediaFrame> { AvcConfig() };
        frames.Add(Video(MediaCodec.H264, 1000, 0, true, Nal(0x65, 10, 1)));
        frames.Add(Video(MediaCodec.H264, 900, 0, true, Nal(0x65, 10, 2)));

        var demux = TsTestDemuxer.Parse(Mux(new TsMuxer(), [.. frames]));

        Assert.That(demux.Pcrs.Select(p => p.Pcr27MHz / 300), Is.EqualTo(new[] { Clock(1000) - 9000, Clock(1000) - 9000 }));
    }

    [Test]
    public void Write_ConfigFrames_WriteNothingAndSetCodecs()
    {
        var muxer = new TsMuxer();
        var output = new ArrayBufferWriter<byte>();

        Assert.That(Write(muxer, output, AvcConfig()), Is.True);
        Assert.That(Write(muxer, output, AacConfig()), Is.True);

        Assert.That(output.WrittenCount, Is.Zero);
        Assert.That((muxer.VideoCodec, muxer.AudioCodec), Is.EqualTo((MediaCodec.H264, MediaCodec.Aac)));
    }

    [Test]
    public void Write_InvalidConfig_RejectedAndCodecUnset()
    {
        var muxer = new TsMuxer();
        var output = new ArrayBufferWriter<byte>();

        Assert.That(Write(muxer, output, MediaTestData.Frame(MediaKind.Video, MediaCodec.H264, FrameFlags.Config, 0, 0, [2, 0x64])), Is.False);
        Assert.That(Write(muxer, output, MediaTestData.Frame(MediaKind.Audio, MediaCodec.Aac, FrameFlags.Config, 0, 0, [0x2A, 0x10])), Is.False); // SBR signalled, extension fields truncated

        Assert.That((muxer.VideoCodec, muxer.AudioCodec), Is.EqualTo((MediaCodec.Unknown, MediaCodec.Unknown)));
        Assert.That(muxer.LastRejection, Is.EqualTo(MuxRejection.InvalidConfig));
    }

    [Test]
    public void Write_LyingNalLength_ReturnsFalseWritesNothing()
    {
        var muxer = new TsMuxer();
        var output = new ArrayBufferWriter<byte>();
        Write(muxer, output, AvcConfig());
        muxer.BeginSegment(output);
        var before = output.WrittenCount;

        var frame = MediaTestData.Frame(MediaKind.Video, MediaCodec.H264, FrameFlags.Keyframe, 0, 0, MediaTestData.Hex("00000010 6588"));
        Assert.That(Write(muxer, output, frame), Is.False);

        Assert.That(output.WrittenCount, Is.EqualTo(before));
        Assert.That(muxer.LastRejection, Is.EqualTo(MuxRejection.MalformedFrame));
    }

    [Test]
    public void Write_H264Idr_AudThenSpsPpsThenFrameNalUnits()
    {
        var sei = Nal(0x06, 30, 1);
        var idr = Nal(0x65, 500, 2);
        var ts = Mux(new TsMuxer(), AvcConfig(), Video(MediaCodec.H264, 0, 80, true, sei, idr));

        var demux = TsTestDemuxer.Parse(ts);
        Assert.That(demux.Errors, Is.Empty);
        var pes = demux.PesOn(TsMuxer.VideoPid).Single();
        Assert.That(pes.Data, Is.EqualTo(MediaTestData.AnnexB(H264Aud, Sps, Pps, sei, idr)));
        Assert.Multiple(() =>
        {
            Assert.That(pes.StreamId, Is.EqualTo(0xE0));
            Assert.That(pes.RandomAccess, Is.True);
            Assert.That(pes.DataAlignment, Is.True);
            Assert.That(pes.Pts, Is.EqualTo(Clock(80)));
            Assert.That(pes.Dts, Is.EqualTo(Clock(0)));
            Assert.That(pes.PacketLengthField, Is.EqualTo(pes.Data.Length + 13));
            Assert.That(demux.Packets.First(p => p.Pid == TsMuxer.VideoPid).Pcr27MHz, Is.EqualTo((Clock(0) - 9000) * 300));
        });
    }

    [Test]
    public void Write_H264NonIdr_OnlyAudAdded()
    {
        var slice = Nal(0x41, 300, 3);
        var ts = Mux(new TsMuxer(), AvcConfig(), Video(MediaCodec.H264, 40, 0, false, slice));

        var pes = TsTestDemuxer.Parse(ts).PesOn(TsMuxer.VideoPid).Single();

        Assert.That(pes.Data, Is.EqualTo(MediaTestData.AnnexB(H264Aud, slice)));
        Assert.That(pes.Dts, Is.Null, "DTS equals PTS, so only PTS is written");
        Assert.That(pes.RandomAccess, Is.False);
    }

    [Test]
    public void Write_H264WithInBandAudSpsPps_NoDuplicates()
    {
        // The encoder repeats headers in band (x264 --repeat-headers, OBS): keep theirs, add only our AUD.
        var theirSps = Nal(0x67, 12, 4);
        var theirPps = Nal(0x68, 5, 5);
        var idr = Nal(0x65, 200, 6);
        var ts = Mux(new TsMuxer(), AvcConfig(), Video(MediaCodec.H264, 0, 0, true, [0x09, 0x10], theirSps, theirPps, idr));

        var pes = TsTestDemuxer.Parse(ts).PesOn(TsMuxer.VideoPid).Single();

        Assert.That(pes.Data, Is.EqualTo(MediaTestData.AnnexB(H264Aud, theirSps, theirPps, idr)));
    }

    [Test]
    public void Write_H264IdrWithOnlyInBandPps_AddsSpsOnly()
    {
        var theirPps = Nal(0x68, 5, 5);
        var idr = Nal(0x65, 200, 6);
        var ts = Mux(new TsMuxer(), AvcConfig(), Video(MediaCodec.H264, 0, 0, true, theirPps, idr));

        var pes = TsTestDemuxer.Parse(ts).PesOn(TsMuxer.VideoPid).Single();

        Assert.That(pes.Data, Is.EqualTo(MediaTestData.AnnexB(H264Aud, Sps, theirPps, idr)));
    }

    [Test]
    public void Write_HevcIrap_AudThenVpsSpsPps()
    {
        var cra = Nal(0x2A, 400, 7);   // type 21 CRA
        var trail = Nal(0x02, 100, 8); // type 1 TRAIL_R
        var ts = Mux(new TsMuxer(), HevcConfig(), Video(MediaCodec.Hevc, 0, 0, true, cra), Video(MediaCodec.Hevc, 40, 0, false, [0x46, 0x01, 0x50], trail));

        var demux = TsTestDemuxer.Parse(ts);
        Assert.That(demux.Errors, Is.Empty);
        Assert.That(demux.Pmts.Single().Streams, Is.EqualTo(new[] { (0x24, 0x100) }));
        var pes = demux.PesOn(TsMuxer.VideoPid).ToList();
        Assert.That(pes[0].Data, Is.EqualTo(MediaTestData.AnnexB(HevcAud, HevcVps, HevcSps, HevcPps, cra)));
        Assert.That(pes[0].RandomAccess, Is.True);
        Assert.That(pes[1].Data, Is.EqualTo(MediaTestData.AnnexB(HevcAud, trail)), "their AUD replaced by ours");
    }

    [Test]
    public void Write_HevcIdrWithoutKeyframeFlag_StillGetsParameterSets()
    {
        var idr = Nal(0x26, 100, 9); // type 19 IDR_W_RADL
        var ts = Mux(new TsMuxer(), HevcConfig(), Video(MediaCodec.Hevc, 0, 0, false, idr));

        var pes = TsTestDemuxer.Parse(ts).PesOn(TsMuxer.VideoPid).Single();

        Assert.That(pes.Data, Is.EqualTo(MediaTestData.AnnexB(HevcAud, HevcVps, HevcSps, HevcPps, idr)));
    }

    [Test]
    public void Write_LargeVideoFrame_PesLengthZeroAndSpansPackets()
    {
        var idr = Nal(0x65, 70_000, 10);
        var ts = Mux(new TsMuxer(), AvcConfig(), Video(MediaCodec.H264, 0, 0, true, idr));

        var demux = TsTestDemuxer.Parse(ts);

        Assert.That(demux.Errors, Is.Empty);
        var pes = demux.PesOn(TsMuxer.VideoPid).Single();
        Assert.That(pes.PacketLengthField, Is.Zero);
        Assert.That(pes.Data, Is.EqualTo(MediaTestData.AnnexB(H264Aud, Sps, Pps, idr)));
        Assert.That(demux.Packets.Count(p => p.Pid == TsMuxer.VideoPid && p.PayloadUnitStart), Is.EqualTo(1));
    }

    [TestCase(1)]
    [TestCase(157)]
    [TestCase(158)]
    [TestCase(159)]
    [TestCase(160)]
    [TestCase(161)]
    [TestCase(342)]
    [TestCase(343)]
    [TestCase(344)]
    public void Write_PesEndingNearPacketBoundary_StuffedExactly(int nalLength)
    {
        // Sizes around 184 − header/AF lengths exercise 0-, 1- and 2-byte adaptation fields.
        var slice = Nal(0x41, nalLength, nalLength);
        var ts = Mux(new TsMuxer(new TsMuxerOptions { PcrIntervalMs = 1_000_000 }), AvcConfig(), Video(MediaCodec.H264, 0, 0, true, Nal(0x65, 10, 1)), Video(MediaCodec.H264, 40, 0, false, slice));

        var demux = TsTestDemuxer.Parse(ts);

        Assert.That(demux.Errors, Is.Empty);
        Assert.That(demux.PesOn(TsMuxer.VideoPid).Last().Data, Is.EqualTo(MediaTestData.AnnexB(H264Aud, slice)));
    }

    [Test]
    public void Write_AacFrames_AdtsPerFramePackedFivePerPes()
    {
        var raws = Enumerable.Range(0, 10).Select(i => Nal((byte)i, 100 + i, i)).ToArray();
        var frames = new List<MediaFrame> { AacConfig() };
        frames.AddRange(raws.Select((raw, i) => Aac(i * 23, raw)));

        var demux = TsTestDemuxer.Parse(Mux(new TsMuxer(), [.. frames]));

        Assert.That(demux.Errors, Is.Empty);
        var pes = demux.PesOn(TsMuxer.AudioPid).ToList();
        Assert.That(pes, Has.Count.EqualTo(2));
        Assert.That(pes[0].Data, Is.EqualTo(raws[..5].SelectMany(Adts).ToArray()));
        Assert.That(pes[1].Data, Is.EqualTo(raws[5..].SelectMany(Adts).ToArray()));
        Assert.That(pes.Select(p => p.Pts), Is.EqualTo(new[] { Clock(0), Clock(5 * 23) }));
        Assert.That(pes.Select(p => p.StreamId), Is.All.EqualTo(0xC0));
        Assert.That(pes.Select(p => p.Dts), Is.All.Null);
        Assert.That(demux.Pcrs.Select(p => p.Pid), Is.All.EqualTo(TsMuxer.AudioPid), "audio-only: PCR on the audio PID");
    }

    [Test]
    public void Write_AacFramesSpanningWindow_FlushedByDuration()
    {
        var muxer = new TsMuxer();
        var output = new ArrayBufferWriter<byte>();
        Write(muxer, output, AacConfig());
        muxer.BeginSegment(output);
        var tables = output.WrittenCount;

        Write(muxer, output, Aac(0, new byte[10]));
        Write(muxer, output, Aac(60, new byte[10]));
        Assert.That(output.WrittenCount, Is.EqualTo(tables), "held");
        Assert.That(muxer.HasPendingAudio, Is.True);

        Write(muxer, output, Aac(100, new byte[10])); // 100 ms after the first: the first two go out
        var pes = TsTestDemuxer.Parse(output.WrittenSpan).PesOn(TsMuxer.AudioPid).ToList();
        Assert.That(pes.Single().Data, Has.Length.EqualTo(2 * 17));

        muxer.Flush(output);
        Assert.That(muxer.HasPendingAudio, Is.False);
        pes = TsTestDemuxer.Parse(output.WrittenSpan).PesOn(TsMuxer.AudioPid).ToList();
        Assert.That(pes.Select(p => p.Pts), Is.EqualTo(new[] { Clock(0), Clock(100) }));
    }

    [Test]
    public void Write_VideoPastAudioWindow_FlushesHeldAudioFirst()
    {
        var muxer = new TsMuxer();
        var output = new ArrayBufferWriter<byte>();
        Write(muxer, output, AvcConfig());
        Write(muxer, output, AacConfig());
        muxer.BeginSegment(output);

        Write(muxer, output, Aac(0, new byte[10]));
        Write(muxer, output, Video(MediaCodec.H264, 40, 0, true, Nal(0x65, 10, 1)));
        Assert.That(muxer.HasPendingAudio, Is.True, "video 40 ms after the held audio: within the window");
        Write(muxer, output, Video(MediaCodec.H264, 100, 0, false, Nal(0x41, 10, 1)));
        Assert.That(muxer.HasPendingAudio, Is.False);

        var demux = TsTestDemuxer.Parse(output.WrittenSpan);
        Assert.That(demux.Errors, Is.Empty);
        Assert.That(demux.PesPackets.Select(p => p.Pid), Is.EqualTo(new[] { 0x100, 0x101, 0x100 }));
    }

    [Test]
    public void Write_TrackAddedAfterTables_NewPatPmtWithNextVersion()
    {
        var muxer = new TsMuxer();
        var output = new ArrayBufferWriter<byte>();
        Write(muxer, output, AvcConfig());
        muxer.BeginSegment(output);
        Write(muxer, output, Video(MediaCodec.H264, 0, 0, true, Nal(0x65, 10, 1)));
        Write(muxer, output, AacConfig());
        Write(muxer, output, Aac(0, new byte[10]));
        muxer.Flush(output);

        var demux = TsTestDemuxer.Parse(output.WrittenSpan);

        Assert.That(demux.Errors, Is.Empty);
        Assert.That(demux.Pats, Has.Count.EqualTo(2));
        Assert.That(demux.Pmts.Select(p => p.Version), Is.EqualTo(new[] { 0, 1 }));
        Assert.That(demux.Pmts[1].Streams, Is.EqualTo(new[] { (0x1B, 0x100), (0x0F, 0x101) }));
        Assert.That(muxer.PmtVersion, Is.EqualTo(1));
        var secondPmt = demux.Packets.Where(p => p.Pid == TsMuxer.PmtPid).Last().Index;
        Assert.That(demux.PesOn(TsMuxer.AudioPid).Single().FirstPacketIndex, Is.GreaterThan(secondPmt));
    }

    [TestCase(false, 0x03)]
    [TestCase(true, 0x04)]
    public void Write_Mp3_PassedThroughWithStreamTypeByVersion(bool mpeg2, int streamType)
    {
        // fffb9064: MPEG-1 layer III 44.1 kHz; fff39064: MPEG-2 layer III 22.05 kHz
        byte[] frame = [0xFF, mpeg2 ? (byte)0xF3 : (byte)0xFB, 0x90, 0x64, .. new byte[200]];
        var ts = Mux(new TsMuxer(), MediaTestData.Frame(MediaKind.Audio, MediaCodec.Mp3, FrameFlags.None, 0, 0, frame));

        var demux = TsTestDemuxer.Parse(ts);

        Assert.That(demux.Errors, Is.Empty);
        Assert.That(demux.Pmts.Last().Streams, Is.EqualTo(new[] { (streamType, 0x101) }));
        Assert.That(demux.PesOn(TsMuxer.AudioPid).Single().Data, Is.EqualTo(frame));
    }

    [Test]
    public void Write_NegativeCompositionTime_PtsBelowDtsButNonNegative()
    {
        var ts = Mux(new TsMuxer(), AvcConfig(), Video(MediaCodec.H264, 0, -100, true, Nal(0x65, 10, 1)));

        var pes = TsTestDemuxer.Parse(ts).PesOn(TsMuxer.VideoPid).Single();

        Assert.That(pes.Pts, Is.EqualTo(126_000 - 9_000));
        Assert.That(pes.Dts, Is.EqualTo(126_000));
    }

    [Test]
    public void Write_PcrInterval_EveryKeyframeAndAtLeastEvery40Ms()
    {
        var frames = new List<MediaFrame> { AvcConfig() };
        for (var i = 0; i < 50; i++)
        {
            frames.Add(Video(MediaCodec.H264, i * 20, 0, i % 10 == 0, Nal(i % 10 == 0 ? (byte)0x65 : (byte)0x41, 30, i)));
        }

        var demux = TsTestDemuxer.Parse(Mux(new TsMuxer(), [.. frames]));

        Assert.That(demux.Errors, Is.Empty);
        var pcrs = demux.Pcrs.Select(p => p.Pcr27MHz / 300).ToList();
        Assert.That(pcrs, Is.Ordered.Ascending);
        Assert.That(pcrs.Zip(pcrs.Skip(1)).Select(p => p.Second - p.First), Is.All.EqualTo(40 * 90));
        Assert.That(demux.PesOn(TsMuxer.VideoPid).Where(p => p.RandomAccess).Count(), Is.EqualTo(5));
    }

    [Test]
    public void Write_TimestampsAcross33BitWrap_WrittenModulo2Pow33()
    {
        // 2^33 / 90 ms ≈ 95,443,717.7 ms (26.5 h); with the 1.4 s offset the wrap happens 1.4 s earlier.
        const long wrapMs = ((1L << 33) - 126_000) / 90;
        var frames = new List<MediaFrame> { AvcConfig(), AacConfig() };
        for (var i = -10; i < 10; i++)
        {
            var t = wrapMs + (i * 40);
            frames.Add(Video(MediaCodec.H264, t, 80, i % 5 == 0, Nal(i % 5 == 0 ? (byte)0x65 : (byte)0x41, 40, i + 100)));
            frames.Add(Aac(t + 10, new byte[20]));
        }

        var demux = TsTestDemuxer.Parse(Mux(new TsMuxer(), [.. frames]));

        Assert.That(demux.Errors, Is.Empty);
        var video = demux.PesOn(TsMuxer.VideoPid).ToList();
        Assert.That(video, Has.Count.EqualTo(20));
        for (var i = 0; i < video.Count; i++)
        {
            var t = wrapMs + ((i - 10) * 40);
            Assert.That(video[i].Dts, Is.EqualTo(Clock(t)), $"frame {i}");
            Assert.That(video[i].Pts, Is.EqualTo(Clock(t + 80)), $"frame {i}");
        }

        Assert.That(video.Select(v => v.Dts!.Value).Max(), Is.GreaterThan((1L << 33) - 5000), "before the wrap");
        Assert.That(video.Select(v => v.Dts!.Value).Min(), Is.LessThan(5000), "after the wrap");
        var pcrBases = demux.Pcrs.Select(p => p.Pcr27MHz / 300).ToList();
        Assert.That(pcrBases, Is.All.LessThan(1L << 33));
        Assert.That(pcrBases.Zip(pcrBases.Skip(1)).Select(p => (p.Second - p.First) & ((1L << 33) - 1)), Is.All.LessThan(90_000), "monotonic modulo 2^33");
    }

    private static bool Write(TsMuxer muxer, IBufferWriter<byte> output, MediaFrame frame)
    {
        try
        {
            return muxer.Write(frame, output) == MuxRejection.None;
        }
        finally
        {
            frame.Payload.Release();
        }
    }
}
