using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using MediaServer.Core.Buffers;

namespace MediaServer.Hls.Storage;

/// <summary>
/// The bytes of one segment: an append-only chain of pooled chunks (<see cref="ChunkSize"/> bytes each,
/// from <see cref="MediaArrayPool"/>), written through <see cref="IBufferWriter{T}"/> by the TS muxer
/// and read back as a <see cref="ReadOnlySequence{T}"/> without being copied into one array.
/// </summary>
/// <remarks>
/// <para>Ownership: created with one reference, held by the <see cref="HlsStream"/>. A reader takes a lease
/// with <see cref="TryAcquire"/> (fails once the buffer is gone) and calls <see cref="Release"/> when its
/// response is written; the last release returns the chunks to the pool. So eviction never pulls memory out
/// from under a request that is still sending the segment.</para>
/// <para>Concurrency: one writer; any number of readers of the committed prefix, even while the writer
/// appends (the hook for LL-HLS parts: a part is a byte range of the segment being built). The writer
/// links a chunk (its <c>RunningIndex</c> and trimmed memory set first) and only then publishes the new
/// committed length with a volatile write; readers read the length first, so everything they walk to is
/// initialised. A chunk's memory only ever shrinks to its written length, which is ≥ any published end.</para>
/// </remarks>
public sealed class SegmentBuffer : IBufferWriter<byte>
{
    /// <summary>Chunk size: 64 KiB keeps a 2 s segment at a few Mbit/s in ~10 chunks and stays below the
    /// large object heap threshold, so pooled arrays are cheap to keep.</summary>
    public const int ChunkSize = 64 * 1024;

    private Chunk? _head;
    private Chunk? _tail;
    private long _committed;
    private int _refCount = 1;
    private bool _completed;

    /// <summary>Bytes written and committed so far.</summary>
    public long Length => Volatile.Read(ref _committed);

    /// <summary>True once the segment is complete and immutable.</summary>
    public bool IsCompleted => Volatile.Read(ref _completed);

    /// <summary>Current reference count (diagnostics and tests).</summary>
    public int RefCount => Volatile.Read(ref _refCount);

    /// <inheritdoc />
    public void Advance(int count)
    {
        var tail = _tail;
        if (tail is null || count < 0 || tail.Written + count > tail.Array.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(count), "Advanced past the span handed out.");
        }

        tail.Written += count;
        Volatile.Write(ref _committed, _committed + count);
    }

    /// <inheritdoc />
    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        var tail = EnsureSpace(sizeHint);
        return tail.Array.AsMemory(tail.Written);
    }

    /// <inheritdoc />
    public Span<byte> GetSpan(int sizeHint = 0)
    {
        var tail = EnsureSpace(sizeHint);
        return tail.Array.AsSpan(tail.Written);
    }

    /// <summary>Marks the segment complete; from now on it is immutable.</summary>
    public void Complete() => Volatile.Write(ref _completed, true);

    /// <summary>The committed bytes. Valid while the caller holds a reference (the owner's or a lease).</summary>
    public ReadOnlySequence<byte> GetSequence() => GetSequence(Volatile.Read(ref _committed));

    /// <summary>The first <paramref name="length"/> committed bytes (a part of a segment being built).</summary>
    public ReadOnlySequence<byte> GetSequence(long length)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, Volatile.Read(ref _committed));
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var head = Volatile.Read(ref _head);
        if (head is null || length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var end = head;
        while (end.Next is Chunk next && next.RunningIndex < length)
        {
            end = next;
        }

        return new ReadOnlySequence<byte>(head, 0, end, checked((int)(length - end.RunningIndex)));
    }

    /// <summary>Writes the committed bytes to a pipe, chunk by chunk (no intermediate array).</summary>
    public ValueTask WriteToAsync(PipeWriter writer, CancellationToken cancellationToken) =>
        WriteToAsync(writer, 0, Length, cancellationToken);

    /// <summary>
    /// Writes <paramref name="count"/> committed bytes from <paramref name="offset"/> to a pipe (a byte range). With a
    /// <paramref name="stall"/> source (its own timer, in place of <paramref name="cancellationToken"/>), each chunk must be taken within
    /// <paramref name="chunkTimeout"/>: its timer restarts before each chunk, and a reader that takes nothing ends the
    /// write with an <see cref="OperationCanceledException"/>.
    /// </summary>
    public async ValueTask WriteToAsync(PipeWriter writer, long offset, long count, CancellationToken cancellationToken, CancellationTokenSource? stall = null, TimeSpan chunkTimeout = default)
    {
        var token = stall?.Token ?? cancellationToken;
        var sequence = GetSequence().Slice(offset, count);
        foreach (var memory in sequence)
        {
            stall?.CancelAfter(chunkTimeout);
            var result = await writer.WriteAsync(memory, token).ConfigureAwait(false);
            if (result.IsCanceled || result.IsCompleted)
            {
                return;
            }
        }

        stall?.CancelAfter(Timeout.InfiniteTimeSpan);
    }

    /// <summary>Writes the committed bytes to a stream, chunk by chunk (no intermediate array).</summary>
    public async ValueTask WriteToAsync(Stream stream, CancellationToken cancellationToken)
    {
        var sequence = GetSequence();
        foreach (var memory in sequence)
        {
            await stream.WriteAsync(memory, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Takes a read lease; false when the buffer was already returned to the pool.</summary>
    public bool TryAcquire()
    {
        var count = Volatile.Read(ref _refCount);
        while (count > 0)
        {
            var seen = Interlocked.CompareExchange(ref _refCount, count + 1, count);
            if (seen == count)
            {
                return true;
            }

            count = seen;
        }

        return false;
    }

    /// <summary>Drops a reference (the owner's or a lease); the last one returns the chunks to the pool.</summary>
    public void Release()
    {
        var count = Interlocked.Decrement(ref _refCount);
        if (count > 0)
        {
            return;
        }

        if (count < 0)
        {
            throw new InvalidOperationException("SegmentBuffer released more often than referenced.");
        }

        var chunk = _head;
        _head = null;
        _tail = null;
        while (chunk is not null)
        {
            var next = chunk.Next as Chunk;
            MediaArrayPool.Return(chunk.Array);
            chunk.Array = [];
            chunk = next;
        }
    }

    private Chunk EnsureSpace(int sizeHint)
    {
        Debug.Assert(!_completed, "Writing into a completed segment.");
        if (sizeHint < 1)
        {
            sizeHint = 1;
        }

        var tail = _tail;
        if (tail is not null && tail.Array.Length - tail.Written >= sizeHint)
        {
            return tail;
        }

        // Chunks come from the media array pool: a whole segment's chunks go back at once when it expires, and
        // ArrayPool.Shared would drop most of them (they became gen-2 garbage; 20 streams grew by hundreds of MB).
        // Larger asks never come from the TS muxer, which writes 188-byte packets.
        var chunk = new Chunk(MediaArrayPool.Rent(Math.Max(ChunkSize, sizeHint)));
        if (tail is null)
        {
            _tail = chunk;
            Volatile.Write(ref _head, chunk);
        }
        else
        {
            // Trim the full chunk to what was written (its unused tail must not appear in a sequence), set the
            // new chunk's running index, then link it; readers only follow Next below a published length.
            tail.Seal();
            chunk.RunningIndex = tail.RunningIndex + tail.Written;
            tail.Link(chunk);
            _tail = chunk;
        }

        return chunk;
    }

    private sealed class Chunk : ReadOnlySequenceSegment<byte>
    {
        public Chunk(byte[] array)
        {
            Array = array;
            Memory = array;
        }

        public byte[] Array { get; set; }

        public int Written { get; set; }

        public new long RunningIndex
        {
            get => base.RunningIndex;
            set => base.RunningIndex = value;
        }

        public void Seal() => Memory = Array.AsMemory(0, Written);

        public void Link(Chunk next) => Next = next;
    }
}
