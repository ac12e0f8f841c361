using MediaServer.Core.Buffers;
using MediaServer.Core.Flv;

namespace MediaServer.Tests.Buffers;

[TestFixture]
public class MediaBufferTests
{
    [Test]
    public void Slice_SharesTheMemory_AndHoldsTheParentUntilItsLastRelease()
    {
        var parent = MediaBuffer.CopyOf([1, 2, 3, 4, 5, 6]);
        var slice = parent.Slice(2, 3);
        Assert.That(slice.Span.ToArray(), Is.EqualTo(new byte[] { 3, 4, 5 }));
        Assert.That(parent.RefCount, Is.EqualTo(2));

        parent.Release(); // the message is done; the frame lives on
        Assert.That(parent.RefCount, Is.EqualTo(1));
        slice.AddRef();
        slice.Release();
        Assert.That(slice.Span.ToArray(), Is.EqualTo(new byte[] { 3, 4, 5 }));

        slice.Release();
        Assert.That(parent.RefCount, Is.Zero);
        Assert.That(slice.RefCount, Is.Zero);
    }

    [Test]
    public void Slice_OfASlice_IsRelativeToIt()
    {
        var parent = MediaBuffer.CopyOf([1, 2, 3, 4, 5, 6]);
        var outer = parent.Slice(1, 4);
        var inner = outer.Slice(1, 2);
        Assert.That(inner.Span.ToArray(), Is.EqualTo(new byte[] { 3, 4 }));
        inner.Release();
        outer.Release();
        Assert.That(parent.RefCount, Is.EqualTo(1));
        parent.Release();
    }

    [TestCase(-1, 1)]
    [TestCase(0, 7)]
    [TestCase(5, 2)]
    [TestCase(2, -1)]
    public void Slice_OutsideTheBuffer_Throws(int start, int length)
    {
        var parent = MediaBuffer.CopyOf([1, 2, 3, 4, 5, 6]);
        Assert.Throws<ArgumentOutOfRangeException>(() => parent.Slice(start, length));
        Assert.That(parent.RefCount, Is.EqualTo(1));
        parent.Release();
    }

    [Test]
    public void FlvDemux_WithTheMessageBuffer_SlicesIt_InsteadOfCopying()
    {
        // An AVC NALU tag: frame type 1 + codec 7, packet type 1, composition time 0, then 4 payload bytes.
        var message = MediaBuffer.CopyOf([0x17, 0x01, 0, 0, 0, 0xAA, 0xBB, 0xCC, 0xDD]);
        var status = FlvDemuxer.Demux(FlvTagType.Video, 40, message, message.Span, out var frame, out _);
        Assert.That(status, Is.EqualTo(FlvDemuxStatus.Frame));
        Assert.That(frame.Payload.Span.ToArray(), Is.EqualTo(new byte[] { 0xAA, 0xBB, 0xCC, 0xDD }));
        Assert.That(message.RefCount, Is.EqualTo(2), "the frame holds the message's buffer");

        // A body that is not inside the owner is copied.
        var other = MediaBuffer.CopyOf([0x17, 0x01, 0, 0, 0, 0xEE]);
        FlvDemuxer.Demux(FlvTagType.Video, 40, message, other.Span, out var copied, out _);
        Assert.That(copied.Payload.Span.ToArray(), Is.EqualTo(new byte[] { 0xEE }));
        Assert.That(message.RefCount, Is.EqualTo(2));

        copied.Payload.Release();
        other.Release();
        frame.Payload.Release();
        message.Release();
        Assert.That(message.RefCount, Is.Zero);
    }

    [Test]
    public void MediaArrayPool_GivesBackAReturnedArray_ToTheNextRentOfItsSize_OnAnyThread()
    {
        var array = MediaArrayPool.Rent(5_000_000); // a size nothing else in the suite rents
        Assert.That(array.Length, Is.EqualTo(8 * 1024 * 1024));
        MediaArrayPool.Return(array);
        var again = Task.Run(() => MediaArrayPool.Rent(4_200_000)).Result;
        Assert.That(again, Is.SameAs(array));
        MediaArrayPool.Return(again);

        // Foreign sizes are not kept.
        var before = MediaArrayPool.RetainedBytes;
        MediaArrayPool.Return(new byte[1000]);
        Assert.That(MediaArrayPool.RetainedBytes, Is.EqualTo(before));
    }
}
