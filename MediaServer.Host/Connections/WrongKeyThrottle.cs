using MediaServer.Core.Streams;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace MediaServer.Host.Connections;

/// <summary>The <c>MediaServer:Auth:WrongKeys</c> configuration section: how wrong stream keys are slowed down.</summary>
public sealed class WrongKeyOptions
{
    /// <summary>Wrong keys from one address answered at once (typos, an encoder retrying a stale key a few times).</summary>
    public int FreeAttempts { get; set; } = 5;

    /// <summary>Delay of the first wrong key past <see cref="FreeAttempts"/>; it doubles with each further one.</summary>
    public TimeSpan InitialDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The delay stops growing here: a guesser gets one answer per this time per connection.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>An address with no wrong key for this long starts again from zero.</summary>
    public TimeSpan ForgetAfter { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Addresses (IPv6 /64 networks) remembered at most; see <see cref="WrongKeyThrottle"/>.</summary>
    public int MaxAddresses { get; set; } = 100_000;
}

/// <summary>
/// Slows down wrong stream keys per client address, never locks anyone out. Only a refused publish is counted and
/// delayed: a correct key is never looked up here, so it is answered at once however many wrong ones came before
/// from the same address (a NAT, a restreamer with a stale key pointed at us, an attacker). Each failure is counted
/// and its delay computed in one step under the address's lock: <see cref="FreeAttempts"/> free, then
/// <see cref="WrongKeyOptions.InitialDelay"/> doubling up to <see cref="WrongKeyOptions.MaxDelay"/>.
/// IPv6 is counted per /64 (one host gets a whole /64 to pick from); IPv4-mapped IPv6 as IPv4.
/// The table holds at most <see cref="WrongKeyOptions.MaxAddresses"/>; when full, idle addresses are swept (at most
/// once per <see cref="SweepInterval"/>), and an address that still finds no room gets the longest delay: under a
/// flood from many addresses, new wrong keys are slow, correct keys are still answered at once.
/// </summary>
public sealed class WrongKeyThrottle(WrongKeyOptions options, TimeProvider time)
{
    /// <summary>A full table is swept at most this often (a sweep walks every entry).</summary>
    public static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<UInt128, Entry> _entries = new();
    private long _lastSweep = long.MinValue;

    private int FreeAttempts => Math.Max(0, options.FreeAttempts);

    internal int Count => _entries.Count;

    internal int FailuresOf(IPAddress address) => _entries.TryGetValue(KeyOf(address), out var entry) ? Volatile.Read(ref entry.Failures) : 0;

    /// <summary>Counts a wrong key from <paramref name="address"/> and returns how long to wait before answering it.</summary>
    public TimeSpan RecordFailure(IPAddress? address)
    {
        var key = KeyOf(address);
        var now = time.GetTimestamp();
        if (!_entries.TryGetValue(key, out var entry))
        {
            if (_entries.Count >= options.MaxAddresses && !TrySweep(now))
            {
                return options.MaxDelay;
            }

            entry = _entries.GetOrAdd(key, static _ => new Entry());
        }

        int failures;
        lock (entry)
        {
            if (entry.Failures > 0 && time.GetElapsedTime(entry.LastAt, now) >= options.ForgetAfter)
            {
                entry.Failures = 0;
            }

            failures = ++entry.Failures;
            entry.LastAt = now;
        }

        return DelayFor(failures);
    }

    /// <summary>The delay of the <paramref name="failures"/>-th wrong key in a row (1-based).</summary>
    public TimeSpan DelayFor(int failures)
    {
        var slowed = failures - FreeAttempts;
        if (slowed <= 0)
        {
            return TimeSpan.Zero;
        }

        var max = options.MaxDelay;
        var delay = options.InitialDelay;
        for (var i = 1; i < slowed && delay < max; i++)
        {
            delay *= 2;
        }

        return delay < max ? delay : max;
    }

    /// <summary>The address an attempt is counted under: IPv4 as is, IPv6 by its /64 network.</summary>
    internal static UInt128 KeyOf(IPAddress? address)
    {
        if (ClientNetwork.Of(address) is not { } network)
        {
            return UInt128.Zero;
        }

        Span<byte> bytes = stackalloc byte[16];
        if (network.AddressFamily == AddressFamily.InterNetwork)
        {
            network.TryWriteBytes(bytes[12..], out _);
            bytes[10] = 0xFF; // the ::ffff:a.b.c.d form, so no IPv4 address shares a key with an IPv6 /64
            bytes[11] = 0xFF;
        }
        else
        {
            network.TryWriteBytes(bytes, out _); // the /64 network
        }

        return System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(bytes);
    }

    private bool TrySweep(long now)
    {
        var last = Interlocked.Read(ref _lastSweep);
        if (last != long.MinValue && time.GetElapsedTime(last, now) < SweepInterval)
        {
            return false;
        }

        if (Interlocked.CompareExchange(ref _lastSweep, now, last) != last)
        {
            return false; // another thread sweeps
        }

        foreach (var (key, entry) in _entries)
        {
            bool idle;
            lock (entry)
            {
                idle = time.GetElapsedTime(entry.LastAt, now) >= options.ForgetAfter;
            }

            if (idle)
            {
                _entries.TryRemove(new KeyValuePair<UInt128, Entry>(key, entry));
            }
        }

        return _entries.Count < options.MaxAddresses;
    }

    private sealed class Entry
    {
        public int Failures;
        public long LastAt;
    }
}
