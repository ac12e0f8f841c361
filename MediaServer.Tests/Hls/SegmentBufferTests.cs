using System.Buffers;
using System.IO.Pipelines;
using MediaServer.Hls.Storage;

namespace MediaServer.Tests.Hls;

public class SegmentBufferTests
{
    private static byte[] Pattern(int length)
    {
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
        {
            bytes[i] = (byte)(i * 7 + (i >> 8));
        }

        return bytes;
    }

    private static void WriteInPackets(SegmentBuffer buffer, byte[] data, int packet)
    {
        for (var offset = 0; offset < data.Length; offset += packet)
        {
            var n = Math.Min(packet, data.Length - offset);
            data.AsSpan(offset, n).CopyTo(buffer.GetSpan(n));
            buffer.Advance(n);
        }
    }

    [TestCase(0)]
    [TestCase(188)]
    [TestCase(SegmentBuffer.ChunkSize)]
    [TestCase(SegmentBuffer.ChunkSize + 1)]
    [TestCase(5 * SegmentBuffer.ChunkSize + 1000)]
    public void GetSequence_WrittenIn188BytePackets_ReadsBackTheSameBytes(int length)
    {
        var data = Pattern(length);
        var buffer = new SegmentBuffer();
        WriteInPackets(buffer, data, 188);

        var sequence = buffer.GetSequence();

        Assert.That(sequence.Length, Is.EqualTo(length));
        Assert.That(sequence.ToArray(), Is.EqualTo(data));
        buffer.Release();
    }

    [Test]
    public void GetSequence_PacketsStraddlingChunks_AreNotSplitAndHaveNoGaps()
    {
        // 188 does not divide 64 KiB: the packet that does not fit starts a new chunk and the unused tail
        // of the full chunk must not show up in the sequence.
        var data = Pattern(3 * SegmentBuffer.ChunkSize);
        var buffer = new SegmentBuffer();
        WriteInPackets(buffer, data, 188);

        var sequence = buffer.GetSequence();
        var segments = 0;
        foreach (var memory in sequence)
        {
            segments++;
            Assert.That(memory.Length % 188, Is.Zero.Or.EqualTo(data.Length % 188), "a chunk holds whole packets");
        }

        Assert.That(segments, Is.GreaterThan(3));
        Assert.That(sequence.ToArray(), Is.EqualTo(data));
        buffer.Release();
    }

    [Test]
    public void GetSpan_HintLargerThanAChunk_ReturnsAContiguousSpanThatLarge()
    {
        var buffer = new SegmentBuffer();
        buffer.GetSpan(10)[0] = 1;
        buffer.Advance(1);

        var span = buffer.GetSpan(3 * SegmentBuffer.ChunkSize);

        Assert.That(span.Length, Is.GreaterThanOrEqualTo(3 * SegmentBuffer.ChunkSize));
        buffer.Advance(3 * SegmentBuffer.ChunkSize);
        Assert.That(buffer.Length, Is.EqualTo(1 + (3 * SegmentBuffer.ChunkSize)));
        buffer.Release();
    }

    [Test]
    public void GetSequenceOfLength_WhileAppending_ReturnsThatPrefix()
    {
        var data = Pattern(200_000);
        var buffer = new SegmentBuffer();
        WriteInPackets(buffer, data.AsSpan(0, 100_000).ToArray(), 188);
        var part = buffer.GetSequence(70_000);
        WriteInPackets(buffer, data.AsSpan(100_000).ToArray(), 188);

        Assert.That(part.ToArray(), Is.EqualTo(data.AsSpan(0, 70_000).ToArray()));
        Assert.That(buffer.GetSequence(150_000).Slice(70_000).ToArray(), Is.EqualTo(data.AsSpan(70_000, 80_000).ToArray()));
        buffer.Release();
    }

    [Test]
    public void Advance_PastTheSpan_Throws()
    {
        var buffer = new SegmentBuffer();
        var length = buffer.GetSpan(10).Length;

        Assert.That(() => buffer.Advance(length + 1), Throws.InstanceOf<ArgumentOutOfRangeException>());
        buffer.Release();
    }

    [Test]
    public void TryAcquire_AfterLastRelease_Fails()
    {
        var buffer = new SegmentBuffer();
        WriteInPackets(buffer, Pattern(1000), 188);
        Assert.That(buffer.TryAcquire(), Is.True);
        buffer.Release(); // the lease
        buffer.Release(); // the owner: back to the pool

        Assert.That(buffer.TryAcquire(), Is.False);
        Assert.That(buffer.RefCount, Is.Zero);
        Assert.That(buffer.Release, Throws.InvalidOperationException);
    }

    [Test]
    public void Release_ByOwnerWhileLeased_KeepsTheBytesReadable()
    {
        var data = Pattern(100_000);
        var buffer = new SegmentBuffer();
        WriteInPackets(buffer, data, 188);
        Assert.That(buffer.TryAcquire(), Is.True);

        buffer.Release(); // evicted by the stream while a request is still sending it

        Assert.That(buffer.GetSequence().ToArray(), Is.EqualTo(data));
        buffer.Release();
        Assert.That(buffer.RefCount, Is.Zero);
    }

    [Test]
    public async Task WriteToAsync_PipeAndStream_WriteAllBytes()
    {
        var data = Pattern(150_000);
        var buffer = new SegmentBuffer();
        WriteInPackets(buffer, data, 188);

        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0)); // no back-pressure: nobody reads yet
        await buffer.WriteToAsync(pipe.Writer, CancellationToken.None);
        await pipe.Writer.CompleteAsync();
        var fromPipe = await pipe.Reader.ReadAtLeastAsync(data.Length + 1);
        var stream = new MemoryStream();
        await buffer.WriteToAsync(stream, CancellationToken.None);

        Assert.That(fromPipe.Buffer.ToArray(), Is.EqualTo(data));
        Assert.That(stream.ToArray(), Is.EqualTo(data));
        buffer.Release();
    }
}
