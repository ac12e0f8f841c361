using System.Net;
using System.Net.Sockets;

namespace MediaServer.Core.Streams;

/// <summary>
/// The network a client address is counted under by per-address limits: an IPv4 address as itself (also when it
/// came IPv4-mapped), an IPv6 address by its /64 (one host usually owns a whole /64 to pick addresses from).
/// </summary>
public static class ClientNetwork
{
    /// <summary>The IPv4 address, or the IPv6 address with its low 64 bits cleared; null for null.</summary>
    public static IPAddress? Of(IPAddress? address)
    {
        if (address is null)
        {
            return null;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address;
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes);
    }
}
