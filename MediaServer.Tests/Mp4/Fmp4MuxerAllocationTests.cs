using System.Buffers;
using MediaServer.Core.Media;
using MediaServer.Core.Mp4;
using static MediaServer.Tests.Mpegts.TsTestStreams;

namespace MediaServer.Tests.Mp4;

public class Fmp4MuxerAllocationTests
{
    [Test]
    public void WriteFlush_SteadyState_AllocatesNothing()
    {
        using var muxer = new Fmp4Muxer();
        var output = new ArrayBufferWriter<byte>(4 * 1024 * 1024);

        // Config frames allocate by design (records parsed and kept): once per sequence header.
        foreach (var config in new[] { AvcConfig(), AacConfig() })
        {
            muxer.Write(config, output);
            config.Payload.Release();
        }

        var frames = new List<MediaFrame>();
        for (var i = 0; i < 250; i++)
        {
            var key = i % 50 == 0;
            frames.Add(Video(MediaCodec.H264, i * 40, i % 3 == 2 ? -40 : 40, key, Nal(0x06, 20, i), Nal(key ? (byte)0x65 : (byte)0x41, key ? 80_000 : 3_000, i)));
            frames.Add(Aac((i * 40) + 5, Nal(0x21, 300, i)));
            frames.Add(Aac((i * 40) + 28, Nal(0x21, 280, i + 1)));
        }

        var offset = 0L;
        void RunOnce()
        {
            // A segment of parts: a fragment every 12 video frames (480 ms), timestamps moving on each run.
            output.ResetWrittenCount();
            muxer.BeginSegment(output);
            for (var i = 0; i < frames.Count; i++)
            {
                if (i % 36 == 0)
                {
                    muxer.Flush(output);
                }

                muxer.Write(frames[i].WithTimestamp(frames[i].Timestamp + offset), output);
            }

            muxer.Flush(output);
            offset += 10_000;
        }

        RunOnce(); // warm-up: JIT, the sample queues and the box scratch buffer grow
        RunOnce();
        var before = GC.GetAllocatedBytesForCurrentThread();
        RunOnce();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.That(output.WrittenCount, Is.GreaterThan(1_000_000));
        Assert.That(allocated, Is.Zero);
        Assert.That(muxer.RejectedFrames, Is.Zero);
        Assert.That(muxer.SequenceNumber, Is.EqualTo(3u * 21));
        foreach (var frame in frames)
        {
            frame.Payload.Release();
        }
    }
}
