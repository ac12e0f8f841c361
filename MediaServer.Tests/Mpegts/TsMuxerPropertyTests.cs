using System.Buffers;
using FsCheck;
using FsCheck.Fluent;
using MediaServer.Core.Media;
using MediaServer.Core.Mpegts;
using MediaServer.Tests.Infrastructure;
using static MediaServer.Tests.Mpegts.TsTestStreams;
using PropertyAttribute = FsCheck.NUnit.PropertyAttribute;

namespace MediaServer.Tests.Mpegts;

public class TsMuxerPropertyTests
{
    private const long Mask33 = (1L << 33) - 1;

    /// <summary>One step of a generated stream.</summary>
    public sealed record Step(int Kind, int Delta, int Cts, bool Key, bool InBandAud, bool InBandParameterSets, int[] NalLengths, int Seed);

    private static Gen<Step> StepGen() =>
        from kind in Gen.Frequency((5, Gen.Constant(0)), (4, Gen.Constant(1)), (1, Gen.Constant(2))) // video, audio, segment cut
        from delta in Gen.Choose(0, 60)
        from cts in Gen.Choose(0, 150)
        from key in Gen.Frequency((1, Gen.Constant(true)), (4, Gen.Constant(false)))
        from aud in Gen.Frequency((1, Gen.Constant(true)), (3, Gen.Constant(false)))
        from inBand in Gen.Frequency((1, Gen.Constant(true)), (3, Gen.Constant(false)))
        from count in Gen.Choose(1, 3)
        from lengths in Gen.ArrayOf(Gen.Frequency((5, Gen.Choose(1, 400)), (1, Gen.Choose(400, 3000))), count)
        from seed in Gen.Choose(0, int.MaxValue)
        select new Step(kind, delta, cts, key, aud, inBand, lengths, seed);

    private static Gen<(long Start, Step[] Steps)> StreamGen() =>
        from nearWrap in ArbMap.Default.GeneratorFor<bool>()
        from start in nearWrap ? Gen.Choose(-2000, 0).Select(d => (Mask33 - 126_000) / 90 + d) : Gen.Choose(0, 100_000).Select(v => (long)v)
        from steps in Gen.ArrayOf(StepGen()).Where(s => s.Length < 80)
        select (start, steps);

    [Property(MaxTest = 60, Replay = "(1234567,7654321)")]
    public Property TsOutput_HasValidPacketsAndCounters() => Prop.ForAll(StreamGen().ToArbitrary(), input =>
    {
        var muxer = new TsMuxer();
        var output = new ArrayBufferWriter<byte>();
        var expectedVideo = new List<byte[]>();
        var expectedAudio = new List<byte>();
        Release(muxer, output, AvcConfig());
        Release(muxer, output, AacConfig());
        muxer.BeginSegment(output);
        long videoDts = input.Start, audioPts = input.Start;
        var tableWrites = 1;
        foreach (var step in input.Steps)
        {
            switch (step.Kind)
            {
                case 0:
                {
                    videoDts += step.Delta;
                    var nals = new List<byte[]>();
                    var expected = new List<byte[]> { H264Aud };
                    if (step.InBandAud)
                    {
                        nals.Add([0x09, 0x30]);
                    }

                    if (step.Key && step.InBandParameterSets)
                    {
                        nals.Add(Sps);
                        nals.Add(Pps);
                    }
                    else if (step.Key)
                    {
                        expected.Add(Sps);
                        expected.Add(Pps);
                    }

                    for (var i = 0; i < step.NalLengths.Length; i++)
                    {
                        nals.Add(Nal(step.Key ? (byte)0x65 : (byte)0x41, step.NalLengths[i], step.Seed + i));
                    }

                    expected.AddRange(nals.Where(n => (n[0] & 0x1F) != 9));
                    expectedVideo.Add(MediaTestData.AnnexB([.. expected]));
                    Assert.That(Release(muxer, output, Video(MediaCodec.H264, videoDts, step.Cts, step.Key, [.. nals])), Is.True);
                    break;
                }

                case 1:
                {
                    audioPts += step.Delta;
                    var raw = Nal(0x21, step.NalLengths[0], step.Seed);
                    expectedAudio.AddRange(Adts(raw));
                    Assert.That(Release(muxer, output, Aac(audioPts, raw)), Is.True);
                    break;
                }

                default:
                    muxer.Flush(output);
                    muxer.BeginSegment(output);
                    tableWrites++;
                    break;
            }
        }

        muxer.Flush(output);
        var ts = output.WrittenSpan;
        var demux = TsTestDemuxer.Parse(ts);

        Assert.That(ts.Length % 188, Is.Zero);
        Assert.That(demux.Errors, Is.Empty, "sync bytes, continuity counters, PSI CRCs, PES lengths, marker bits, stuffing");
        Assert.That(demux.Pats, Has.Count.EqualTo(tableWrites));
        Assert.That(demux.Pmts.Select(p => p.Version), Is.All.Zero);

        // PCR monotonic (modulo 2^33 × 300) and never ahead of the DTS of the PES it starts.
        for (var i = 1; i < demux.Pcrs.Count; i++)
        {
            var step = (demux.Pcrs[i].Pcr27MHz - demux.Pcrs[i - 1].Pcr27MHz) & ((Mask33 + 1) * 300 - 1);
            Assert.That(step, Is.LessThan(1L << 40), $"PCR {i} went backwards");
        }

        var video = demux.PesOn(TsMuxer.VideoPid).ToList();
        foreach (var pes in video)
        {
            var dts = pes.Dts ?? pes.Pts;
            Assert.That((pes.Pts - dts) & Mask33, Is.LessThan(1L << 32), "PTS >= DTS");
            var pcr = demux.Pcrs.FirstOrDefault(p => p.PacketIndex == pes.FirstPacketIndex);
            if (pcr != default)
            {
                Assert.That((dts - (pcr.Pcr27MHz / 300)) & Mask33, Is.LessThan(1L << 32), "PCR <= DTS");
            }
        }

        Assert.That(video.Select(v => v.Data), Is.EqualTo(expectedVideo), "every access unit recovered byte-exact as Annex B");
        Assert.That(demux.PesOn(TsMuxer.AudioPid).SelectMany(p => p.Data), Is.EqualTo(expectedAudio));
        Assert.That(demux.PesOn(TsMuxer.AudioPid).All(p => p.Data.Length > 0 && p.Data[0] == 0xFF), Is.True, "audio PES start on an ADTS header");
    });

    private static bool Release(TsMuxer muxer, IBufferWriter<byte> output, MediaFrame frame)
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
