using System.Buffers;
using MediaServer.Core.Media;
using MediaServer.Core.Mpegts;
using static MediaServer.Tests.Mpegts.TsTestStreams;

namespace MediaServer.Tests.Mpegts;

public class TsMuxerAllocationTests
{
    [Test]
    public void Write_SteadyState_AllocatesNothing()
    {
        var muxer = new TsMuxer();
        var output = new ArrayBufferWriter<byte>(4 * 1024 * 1024);

        // Config frames allocate by design (records parsed, parameter sets kept): once per sequence header.
        foreach (var config in new[] { AvcConfig(), AacConfig() })
        {
            muxer.Write(config, output);
            config.Payload.Release();
        }

        var frames = new List<MediaFrame>();
        for (var i = 0; i < 250; i++)
        {
            var key = i % 50 == 0;
            frames.Add(Video(MediaCodec.H264, i * 40, 80, key, Nal(0x06, 20, i), Nal(key ? (byte)0x65 : (byte)0x41, key ? 80_000 : 3_000, i)));
            frames.Add(Aac((i * 40) + 5, Nal(0x21, 300, i)));
            frames.Add(Aac((i * 40) + 28, Nal(0x21, 280, i + 1)));
        }

        var offset = 0L;
        void RunOnce()
        {
            // Segment start: tables, then the frames (timestamps moving on each run), then flush.
            output.ResetWrittenCount();
            muxer.BeginSegment(output);
            foreach (var frame in frames)
            {
                muxer.Write(frame.WithTimestamp(frame.Timestamp + offset), output);
            }

            muxer.Flush(output);
            offset += 10_000;
        }

        RunOnce(); // warm-up: JIT, static tables, the audio buffer
        RunOnce();
        var before = GC.GetAllocatedBytesForCurrentThread();
        RunOnce();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.That(output.WrittenCount, Is.GreaterThan(188 * 5000));
        Assert.That(allocated, Is.Zero);
        Assert.That(muxer.RejectedFrames, Is.Zero);
        foreach (var frame in frames)
        {
            frame.Payload.Release();
        }
    }
}
