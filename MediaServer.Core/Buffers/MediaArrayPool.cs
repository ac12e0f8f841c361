using System.Numerics;

namespace MediaServer.Core.Buffers;

/// <summary>
/// The arrays behind <see cref="MediaBuffer"/> and the HLS segment chunks: power-of-two sizes from 64 B to 16 MiB,
/// shared by every thread, with at most <see cref="MaxRetainedBytes"/> of free arrays kept, and free arrays that sat
/// unused for a whole <see cref="TrimInterval"/> let go.
/// </summary>
/// <remarks>
/// <para>Not <see cref="System.Buffers.ArrayPool{T}.Shared"/>: that pool keeps a few arrays per size and core, and a
/// live stream hands back a whole group of pictures at once (its GOP cache is released at every keyframe, about 60
/// video frames of similar size), and a whole segment's chunks when the segment expires. The surplus was dropped,
/// became garbage after two seconds in gen 1/2, and the next GOP allocated fresh arrays: a steady churn of the
/// stream's bitrate through the GC and page faults on new memory. Here a returned array waits for the next rent of
/// its size, whichever thread asks.</para>
/// <para>A daemon outlives its streams: after 20 streams ended, 170 MB of free arrays stayed in the pools for good.
/// Every <see cref="TrimInterval"/> each size drops the arrays that stayed free the whole interval (its low-water
/// mark), so a steady load keeps what it cycles through and an idle server gives the rest back; once that is a
/// lot and nothing was rented for a whole interval, a compacting collection hands the memory back to the system.</para>
/// </remarks>
public static class MediaArrayPool
{
    /// <summary>Free arrays kept at most, in bytes; beyond that a returned array is left to the GC.</summary>
    public const long MaxRetainedBytes = 192L * 1024 * 1024;

    /// <summary>How long a free array may sit unused before the pool lets it go.</summary>
    public static readonly TimeSpan TrimInterval = TimeSpan.FromSeconds(30);

    /// <summary>Let go of at least this much, and the pool asks for a gen-2 collection (see <c>TrimIdle</c>).</summary>
    public const long CollectAfterTrimmingBytes = 32L * 1024 * 1024;

    private static readonly PowerOfTwoArrayPool s_pool = new(MaxRetainedBytes);
    // Static: started with the type (the first rent) and kept alive by this root for the life of the process.
    private static readonly Timer s_trimTimer = new(static _ => TrimIdle(), null, TrimInterval, TrimInterval);
    private static long s_unreclaimedBytes; // let go of since the last compacting collection (one trim at a time)
    private static int s_trimming;
    private static long s_lastTrim = Environment.TickCount64;

    /// <summary>Free bytes kept now (tests, diagnostics).</summary>
    public static long RetainedBytes => s_pool.RetainedBytes;

    /// <summary>An array of at least <paramref name="length"/> bytes (its contents are not cleared).</summary>
    public static byte[] Rent(int length) => s_pool.Rent(length);

    /// <summary>Gives back an array from <see cref="Rent"/>; arrays of other sizes are ignored.</summary>
    public static void Return(byte[] array) => s_pool.Return(array);

    private static void TrimIdle()
    {
        // Timer callbacks may overlap or come back to back when the thread pool is starved; a trim right after
        // another would see "nothing rented" and drop everything, so a trim runs alone, and at most every half interval.
        var now = Environment.TickCount64;
        if (Interlocked.Exchange(ref s_trimming, 1) != 0)
        {
            return;
        }

        try
        {
            if (now - s_lastTrim >= (long)TrimInterval.TotalMilliseconds / 2)
            {
                s_lastTrim = now;
                Trim();
            }
        }
        finally
        {
            Volatile.Write(ref s_trimming, 0);
        }
    }

    private static void Trim()
    {
        var dropped = s_pool.Trim(out var rented);
        s_unreclaimedBytes += dropped;
        if (s_unreclaimedBytes < CollectAfterTrimmingBytes)
        {
            return;
        }

        if (!rented)
        {
            // Nothing rented for a whole interval: no stream is live, so a blocking, compacting collection that hands
            // the memory back to the system stalls nobody (20 ended streams: RSS from 355 MB back to 92 MB).
            GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            s_unreclaimedBytes = 0;
        }
        else if (dropped >= CollectAfterTrimmingBytes && System.Runtime.GCSettings.LatencyMode != System.Runtime.GCLatencyMode.Batch)
        {
            // Streams are live: no pause for them (a compacting collection took 40-85 ms with 10 live streams), only a
            // background one, so the GC can reuse the memory; it goes back to the system once the server is idle.
            // (Batch latency mode means concurrent GC is off: that collection would block, so none is asked for.)
            GC.Collect(2, GCCollectionMode.Forced, blocking: false);
        }
    }
}

/// <summary>
/// The mechanics of <see cref="MediaArrayPool"/>: a stack of free arrays per power-of-two size, a byte budget, and
/// <see cref="Trim"/> by low-water mark. Thread-safe.
/// </summary>
internal sealed class PowerOfTwoArrayPool(long maxRetainedBytes)
{
    public const int MinShift = 6;   // 64 B
    public const int MaxShift = 24;  // 16 MiB

    private readonly Bucket[] _buckets = Enumerable.Range(0, MaxShift - MinShift + 1).Select(_ => new Bucket()).ToArray();
    private long _retainedBytes;

    public long RetainedBytes => Interlocked.Read(ref _retainedBytes);

    public byte[] Rent(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        var shift = Math.Max(MinShift, 32 - BitOperations.LeadingZeroCount((uint)length - 1));
        if (shift > MaxShift)
        {
            return GC.AllocateUninitializedArray<byte>(length);
        }

        var bucket = _buckets[shift - MinShift];
        lock (bucket)
        {
            bucket.Rented = true;
            if (bucket.Free.TryPop(out var array))
            {
                bucket.LowWater = Math.Min(bucket.LowWater, bucket.Free.Count);
                Interlocked.Add(ref _retainedBytes, -array.Length);
                return array;
            }
        }

        return GC.AllocateUninitializedArray<byte>(1 << shift);
    }

    public void Return(byte[] array)
    {
        var length = array.Length;
        if (!BitOperations.IsPow2(length) || length < 1 << MinShift || length > 1 << MaxShift)
        {
            return;
        }

        if (Interlocked.Add(ref _retainedBytes, length) > maxRetainedBytes)
        {
            Interlocked.Add(ref _retainedBytes, -length);
            return;
        }

        var bucket = _buckets[BitOperations.Log2((uint)length) - MinShift];
        lock (bucket)
        {
            bucket.Free.Push(array);
        }
    }

    /// <summary>
    /// Lets go of the free arrays no rent reached since the last trim (each size's low-water mark); returns their
    /// bytes, and in <paramref name="rented"/> whether anything was rented since. An array returned since then
    /// stays, so a load that cycles through its arrays keeps them.
    /// </summary>
    public long Trim(out bool rented)
    {
        var dropped = 0L;
        rented = false;
        for (var i = 0; i < _buckets.Length; i++)
        {
            var bucket = _buckets[i];
            lock (bucket)
            {
                for (var n = bucket.LowWater; n > 0 && bucket.Free.TryPop(out _); n--)
                {
                    dropped += 1L << (i + MinShift);
                }

                bucket.LowWater = bucket.Free.Count;
                rented |= bucket.Rented;
                bucket.Rented = false;
            }
        }

        Interlocked.Add(ref _retainedBytes, -dropped);
        return dropped;
    }

    private sealed class Bucket
    {
        public readonly Stack<byte[]> Free = new();

        /// <summary>The fewest free arrays since the last trim: that many sat unused all along.</summary>
        public int LowWater;

        /// <summary>Whether anything was rented since the last trim (pooled or not).</summary>
        public bool Rented;
    }
}
