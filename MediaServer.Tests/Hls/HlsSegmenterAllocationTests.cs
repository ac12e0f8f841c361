using MediaServer.Core.Media;
using static MediaServer.Tests.Hls.HlsTestKit;

namespace MediaServer.Tests.Hls;

public class HlsSegmenterAllocationTests
{
    [Test]
    public void Process_FramesWithinASegment_AllocatesNothing()
    {
        using var h = new SegmenterHarness(Options(segmentSeconds: 60));
        var frames = new MediaFrame[2000];
        for (var i = 0; i < frames.Length; i++)
        {
            frames[i] = i % 2 == 0 ? Video(i * 20L, key: i == 0) : Audio(i * 20L);
        }

        h.Feed(VideoConfig());
        h.Feed(AudioConfig());
        for (var i = 0; i < 100; i++)
        {
            h.Segmenter.Process(frames[i]); // warm up: segment opened, first chunk rented, JIT done
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 100; i < 2000; i++)
        {
            h.Segmenter.Process(frames[i]); // 1900 × 16 bytes: stays in the first 64 KiB chunk
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        foreach (var frame in frames)
        {
            frame.Payload.Release();
        }

        Assert.That(allocated, Is.Zero);
    }
}
