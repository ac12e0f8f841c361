using System.Buffers;
using System.Diagnostics;

namespace MediaServer.Core.Buffers;

/// <summary>
/// A pooled, reference-counted byte buffer: the single owner type for media payloads on the hot path.
/// </summary>
/// <remarks>
/// <para>Created with a reference count of one by <see cref="Rent"/>. Every holder that keeps the buffer
/// beyond the call that handed it over calls <see cref="AddRef"/>, and every holder calls
/// <see cref="Release"/> exactly once. The last release returns the array to <see cref="ArrayPool{T}.Shared"/>
/// and this object to a small pool, so steady-state streaming allocates nothing.</para>
/// <para>Only the creator writes into <see cref="Span"/>, before the buffer is shared.</para>
/// </remarks>
public sealed class MediaBuffer
{
    // Bounded so a burst (many streams starting) cannot pin memory forever.
    private const int MaxPooledObjects = 4096;
    private static readonly Stack<MediaBuffer> s_pool = new();
    private static readonly Lock s_poolLock = new();

    private byte[] _array = [];
    private int _length;
    private int _refCount;

    private MediaBuffer()
    {
    }

    /// <summary>Number of payload bytes.</summary>
    public int Length => _length;

    /// <summary>The payload, writable by the creator before the buffer is shared.</summary>
    public Span<byte> Span
    {
        get
        {
            Debug.Assert(_refCount > 0, "MediaBuffer used after release.");
            return _array.AsSpan(0, _length);
        }
    }

    /// <summary>The payload as memory (read-only by convention once shared).</summary>
    public ReadOnlyMemory<byte> Memory => _array.AsMemory(0, _length);

    /// <summary>Current reference count (diagnostics and tests).</summary>
    public int RefCount => Volatile.Read(ref _refCount);

    /// <summary>Rents a buffer of exactly <paramref name="length"/> bytes with a reference count of one.</summary>
    public static MediaBuffer Rent(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        MediaBuffer? buffer = null;
        lock (s_poolLock)
        {
            s_pool.TryPop(out buffer);
        }

        buffer ??= new MediaBuffer();
        buffer._array = length == 0 ? [] : ArrayPool<byte>.Shared.Rent(length);
        buffer._length = length;
        buffer._refCount = 1;
        return buffer;
    }

    /// <summary>Rents a buffer holding a copy of <paramref name="source"/>.</summary>
    public static MediaBuffer CopyOf(ReadOnlySpan<byte> source)
    {
        var buffer = Rent(source.Length);
        source.CopyTo(buffer._array);
        return buffer;
    }

    /// <summary>Rents a buffer holding a copy of <paramref name="source"/> (e.g. a pipe's read buffer).</summary>
    public static MediaBuffer CopyOf(in ReadOnlySequence<byte> source)
    {
        var buffer = Rent(checked((int)source.Length));
        source.CopyTo(buffer._array);
        return buffer;
    }

    /// <summary>Adds a reference and returns this buffer, for the new holder.</summary>
    public MediaBuffer AddRef()
    {
        var count = Interlocked.Increment(ref _refCount);
        Debug.Assert(count > 1, "AddRef on a released MediaBuffer.");
        return this;
    }

    /// <summary>Drops one reference; the last one returns the memory to the pool.</summary>
    public void Release()
    {
        var count = Interlocked.Decrement(ref _refCount);
        if (count > 0)
        {
            return;
        }

        if (count < 0)
        {
            throw new InvalidOperationException("MediaBuffer released more often than referenced.");
        }

        if (_array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_array);
        }

        _array = [];
        _length = 0;
        lock (s_poolLock)
        {
            if (s_pool.Count < MaxPooledObjects)
            {
                s_pool.Push(this);
            }
        }
    }
}
