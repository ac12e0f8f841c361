using MediaServer.Core.Streams;
using System.Net;

namespace MediaServer.Rtmp.Session;

/// <summary>
/// The server-wide RTMP budgets: connections in total and per remote address, and players per stream and per
/// address (<see cref="RtmpServerOptions"/>). One instance per server, shared by every session; thread-safe.
/// </summary>
/// <remarks>
/// A peer that opens sockets without limit would otherwise cost the server a session each (buffers, timers) until
/// its timeouts fire. The per-address default (100) still fits a studio behind one NAT or a load test on loopback.
/// IPv6 addresses count per /64 (one host usually owns a whole /64).
/// </remarks>
public sealed class RtmpConnectionLimits
{
    private readonly RtmpServerOptions _options;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, int> _connectionsByAddress = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _playersByAddress = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _playersByStream = new(StringComparer.Ordinal);
    private int _connections;

    public RtmpConnectionLimits(RtmpServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
    }

    /// <summary>Connections open now (tests, diagnostics).</summary>
    public int Connections
    {
        get
        {
            lock (_lock)
            {
                return _connections;
            }
        }
    }

    /// <summary>The key an address is counted under: the IPv4 address, or the /64 of an IPv6 address.</summary>
    public static string AddressKey(IPAddress? address) => ClientNetwork.Of(address) switch
    {
        null => "",
        { AddressFamily: System.Net.Sockets.AddressFamily.InterNetworkV6 } network => network + "/64",
        var network => network.ToString(),
    };

    /// <summary>Takes a connection slot; null when it fits (call <see cref="ReleaseConnection"/> once), else why not.</summary>
    public string? TryAcquireConnection(string addressKey)
    {
        lock (_lock)
        {
            if (_connections >= _options.MaxConnections)
            {
                return $"MediaServer:Rtmp:MaxConnections ({_options.MaxConnections}) reached";
            }

            _connectionsByAddress.TryGetValue(addressKey, out var count);
            if (count >= _options.MaxConnectionsPerAddress)
            {
                return $"MediaServer:Rtmp:MaxConnectionsPerAddress ({_options.MaxConnectionsPerAddress}) reached";
            }

            _connectionsByAddress[addressKey] = count + 1;
            _connections++;
            return null;
        }
    }

    public void ReleaseConnection(string addressKey)
    {
        lock (_lock)
        {
            _connections--;
            Decrement(_connectionsByAddress, addressKey);
        }
    }

    /// <summary>Takes a player slot for <paramref name="streamId"/>; null when it fits (call <see cref="ReleasePlayer"/> once), else why not.</summary>
    public string? TryAcquirePlayer(string streamId, string addressKey)
    {
        lock (_lock)
        {
            _playersByStream.TryGetValue(streamId, out var perStream);
            if (perStream >= _options.MaxPlayersPerStream)
            {
                return $"Too many RTMP players of this stream (MediaServer:Rtmp:MaxPlayersPerStream = {_options.MaxPlayersPerStream}).";
            }

            _playersByAddress.TryGetValue(addressKey, out var perAddress);
            if (perAddress >= _options.MaxPlayersPerAddress)
            {
                return $"Too many RTMP players from this address (MediaServer:Rtmp:MaxPlayersPerAddress = {_options.MaxPlayersPerAddress}).";
            }

            _playersByStream[streamId] = perStream + 1;
            _playersByAddress[addressKey] = perAddress + 1;
            return null;
        }
    }

    public void ReleasePlayer(string streamId, string addressKey)
    {
        lock (_lock)
        {
            Decrement(_playersByStream, streamId);
            Decrement(_playersByAddress, addressKey);
        }
    }

    private static void Decrement(Dictionary<string, int> counts, string key)
    {
        if (counts.TryGetValue(key, out var count))
        {
            if (count <= 1)
            {
                counts.Remove(key);
            }
            else
            {
                counts[key] = count - 1;
            }
        }
    }
}
