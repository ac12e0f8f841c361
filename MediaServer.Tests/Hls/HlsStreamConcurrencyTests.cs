using System.Buffers;
using MediaServer.Hls.Storage;
using static MediaServer.Tests.Hls.HlsTestKit;

namespace MediaServer.Tests.Hls;

public class HlsStreamConcurrencyTests
{
    [Test]
    public void Readers_WhileWriterSlidesAndExpires_ReadConsistentBytesOrNothing()
    {
        // One writer adds 300 segments (each filled with its sequence number's low byte, ~130 KB, two
        // chunks) and expires removed ones at once (zero retention); four readers lease random recent
        // segments and check every byte. A reader must see a whole, unchanged segment or get no lease.
        var options = Options(playlistLength: 3);
        options.RetainRemovedSegmentsFor = TimeSpan.Zero;
        using var stream = new HlsStream("cam", options, sessionId: "s");
        using var done = new CancellationTokenSource();
        var reads = 0L;
        var readers = Enumerable.Range(0, 4).Select(seed => Task.Run(() =>
        {
            var random = new Random(seed);
            while (!done.IsCancellationRequested)
            {
                var next = stream.NextSequenceNumber;
                if (next == 0 || !stream.TryAcquireSegment(next - 1 - random.Next(6), out var segment))
                {
                    continue;
                }

                try
                {
                    var bytes = segment!.Buffer.GetSequence().ToArray();
                    if (bytes.Length != 130_000 || Array.Exists(bytes, b => b != (byte)segment.SequenceNumber))
                    {
                        throw new InvalidOperationException($"segment {segment.SequenceNumber} changed while leased");
                    }

                    Interlocked.Increment(ref reads);
                }
                finally
                {
                    segment!.Buffer.Release();
                }
            }
        })).ToArray();

        for (var sequence = 0; sequence < 300; sequence++)
        {
            var buffer = new SegmentBuffer();
            for (var written = 0; written < 130_000; written += 1000)
            {
                buffer.GetSpan(1000)[..1000].Fill((byte)sequence);
                buffer.Advance(1000);
            }

            stream.AddSegment(2, 2000, false, Epoch, buffer);
            Thread.Yield();
        }

        done.Cancel();
        Assert.That(() => Task.WaitAll(readers), Throws.Nothing);
        Assert.That(Interlocked.Read(ref reads), Is.GreaterThan(0));
        Assert.That(stream.MediaSequence, Is.EqualTo(297));
    }
}
