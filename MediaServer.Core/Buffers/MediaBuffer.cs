using System.Buffers;
using System.Diagnostics;

namespace MediaServer.Core.Buffers;

/// <summary>
/// A pooled, reference-counted byte buffer: the single owner type for media payloads on the hot path.
/// </summary>
/// <remarks>
/// <para>Created with a reference count of one by <see cref="Rent"/>. Every holder that keeps the buffer
/// beyond the call that handed it over calls <see cref="AddRef"/>, and every holder calls
/// <see cref="Release"/> exactly once. The last release returns the array to <see cref="MediaArrayPool"/>
/// and this object to a small pool, so steady-state streaming allocates nothing.</para>
/// <para>A <see cref="Slice"/> is a view of part of another buffer (a frame inside the RTMP message it came in):
/// it holds one reference on that buffer and gives it back on its last release.</para>
/// <para>Only the creator writes into <see cref="Span"/>, before the buffer is shared.</para>
/// </remarks>
public sealed class MediaBuffer
{
    // Bounded so a burst (many streams starting) cannot pin memory forever.
    private const int MaxPooledObjects = 4096;
    private static readonly Stack<MediaBuffer> s_pool = new();
    private static readonly Lock s_poolLock = new();

    private byte[] _array = [];
    private MediaBuffer? _parent;
    private int _offset;
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
            return _array.AsSpan(_offset, _length);
        }
    }

    /// <summary>The payload as memory (read-only by convention once shared).</summary>
    public ReadOnlyMemory<byte> Memory => _array.AsMemory(_offset, _length);

    /// <summary>Current reference count (diagnostics and tests).</summary>
    public int RefCount => Volatile.Read(ref _refCount);

    /// <summary>Rents a buffer of exactly <paramref name="length"/> bytes with a reference count of one.</summary>
    public static MediaBuffer Rent(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var buffer = RentObject();
        buffer._array = length == 0 ? [] : MediaArrayPool.Rent(length);
        buffer._length = length;
        return buffer;
    }

    /// <summary>
    /// A buffer of <paramref name="length"/> bytes of this one from <paramref name="start"/>, sharing its memory, with a
    /// reference count of one; it holds a reference on this buffer until its own last release.
    /// </summary>
    public MediaBuffer Slice(int start, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(start, _length - length);
        var slice = RentObject();
        slice._parent = AddRef();
        slice._array = _array;
        slice._offset = _offset + start;
        slice._length = length;
        return slice;
    }

    private static MediaBuffer RentObject()
    {
        MediaBuffer? buffer;
        lock (s_poolLock)
        {
            s_pool.TryPop(out buffer);
        }

        buffer ??= new MediaBuffer();
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

        if (_parent is { } parent)
        {
            _parent = null;
            parent.Release();
        }
        else if (_array.Length > 0)
        {
            MediaArrayPool.Return(_array);
        }

        _array = [];
        _offset = 0;
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
