using System.Numerics;

namespace MediaServer.Core.Buffers;

/// <summary>
/// The arrays behind <see cref="MediaBuffer"/>: power-of-two sizes from 64 B to 16 MiB, shared by every thread, with at
/// most <see cref="MaxRetainedBytes"/> of free arrays kept.
/// </summary>
/// <remarks>
/// Not <see cref="System.Buffers.ArrayPool{T}.Shared"/>: that pool keeps a few arrays per size and core, and a live
/// stream hands back a whole group of pictures at once (its GOP cache is released at every keyframe, about 60 video
/// frames of similar size). The surplus was dropped, became garbage after two seconds in gen 1/2, and the next GOP
/// allocated fresh arrays: a steady churn of the stream's bitrate through the GC and page faults on new memory.
/// Here a returned array waits for the next frame of its size, whichever thread rents it.
/// </remarks>
public static class MediaArrayPool
{
    /// <summary>Free arrays kept at most, in bytes; beyond that a returned array is left to the GC.</summary>
    public const long MaxRetainedBytes = 64L * 1024 * 1024;

    private const int MinShift = 6;   // 64 B
    private const int MaxShift = 24;  // 16 MiB
    private static readonly Bucket[] s_buckets = CreateBuckets();
    private static long s_retainedBytes;

    /// <summary>Free bytes kept now (tests, diagnostics).</summary>
    public static long RetainedBytes => Interlocked.Read(ref s_retainedBytes);

    /// <summary>An array of at least <paramref name="length"/> bytes (its contents are not cleared).</summary>
    public static byte[] Rent(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        var shift = Math.Max(MinShift, 32 - BitOperations.LeadingZeroCount((uint)length - 1));
        if (shift > MaxShift)
        {
            return GC.AllocateUninitializedArray<byte>(length);
        }

        var bucket = s_buckets[shift - MinShift];
        lock (bucket)
        {
            if (bucket.Free.TryPop(out var array))
            {
                Interlocked.Add(ref s_retainedBytes, -array.Length);
                return array;
            }
        }

        return GC.AllocateUninitializedArray<byte>(1 << shift);
    }

    /// <summary>Gives back an array from <see cref="Rent"/>; arrays of other sizes are ignored.</summary>
    public static void Return(byte[] array)
    {
        var length = array.Length;
        if (!BitOperations.IsPow2(length) || length < 1 << MinShift || length > 1 << MaxShift)
        {
            return;
        }

        if (Interlocked.Add(ref s_retainedBytes, length) > MaxRetainedBytes)
        {
            Interlocked.Add(ref s_retainedBytes, -length);
            return;
        }

        var bucket = s_buckets[BitOperations.Log2((uint)length) - MinShift];
        lock (bucket)
        {
            bucket.Free.Push(array);
        }
    }

    private static Bucket[] CreateBuckets()
    {
        var buckets = new Bucket[MaxShift - MinShift + 1];
        for (var i = 0; i < buckets.Length; i++)
        {
            buckets[i] = new Bucket();
        }

        return buckets;
    }

    private sealed class Bucket
    {
        public readonly Stack<byte[]> Free = new();
    }
}
