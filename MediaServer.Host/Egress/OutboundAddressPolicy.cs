using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using MediaServer.Host.Configuration;
using Microsoft.Extensions.Options;

namespace MediaServer.Host.Egress;

/// <summary>Why an outbound address is refused (<see cref="OutboundAddressPolicy.Classify"/>).</summary>
internal enum AddressRange
{
    /// <summary>A public unicast address: allowed.</summary>
    Public = 0,

    /// <summary>127.0.0.0/8, ::1. Allowed with <c>AllowPrivateNetworks</c>.</summary>
    Loopback,

    /// <summary>10/8, 172.16/12, 192.168/16 (RFC 1918), fc00::/7 (ULA, RFC 4193), fec0::/10 (site-local), 100.64/10 (CGNAT,
    /// RFC 6598), 198.18/15 (benchmarking), 192.0.0/24. Allowed with <c>AllowPrivateNetworks</c>.</summary>
    Private,

    /// <summary>169.254/16 (cloud metadata at 169.254.169.254), fe80::/10. Always refused.</summary>
    LinkLocal,

    /// <summary>0.0.0.0/8, ::, multicast (224/4, ff00::/8), 240/4 and 255.255.255.255. Always refused.</summary>
    NotUnicast,
}

/// <summary>An outbound connection refused by <see cref="OutboundAddressPolicy"/>; nothing was sent to the address.</summary>
internal sealed class OutboundAddressRefusedException(string message) : Exception(message);

/// <summary>
/// Which addresses the server may connect out to on a user's behalf (restream targets; later webhooks), so a
/// livestream's target cannot make the server reach its own network (SSRF): loopback, the private ranges, link-local
/// (the cloud metadata service) and this server's own listeners are refused.
/// </summary>
/// <remarks>
/// The check is made on addresses, after DNS: <see cref="ResolveAsync"/> resolves once, checks, and returns the
/// address to connect to, so a name that resolves differently on the second lookup (DNS rebinding) gains nothing.
/// IPv4-mapped IPv6 addresses (<c>::ffff:10.0.0.1</c>) are judged as the IPv4 address they carry.
/// <c>MediaServer:Restream:AllowPrivateNetworks</c> allows <see cref="AddressRange.Loopback"/> and
/// <see cref="AddressRange.Private"/> (tests, private setups); link-local, non-unicast and the server's own
/// listeners (its RTMP, RTMPS and HTTP ports on any of its addresses) stay refused. The addresses of this machine's
/// network interfaces are refused on every port unless <c>AllowPrivateNetworks</c> is set, so a target cannot reach a
/// service the firewall hides from outside.
/// </remarks>
internal sealed class OutboundAddressPolicy
{
    private readonly bool _allowPrivateNetworks;
    private readonly int[] _ownPorts;

    public OutboundAddressPolicy(bool allowPrivateNetworks, IEnumerable<int> ownPorts)
    {
        _allowPrivateNetworks = allowPrivateNetworks;
        _ownPorts = [.. ownPorts.Where(static p => p > 0).Distinct()];
    }

    /// <summary>The restream policy of this server's configuration.</summary>
    public static OutboundAddressPolicy ForRestream(IOptions<MediaServerOptions> options)
    {
        var o = options.Value;
        return new OutboundAddressPolicy(o.Restream.AllowPrivateNetworks, [o.Rtmp.Port, o.Rtmps.Port, o.Http.Port]);
    }

    /// <summary>The range of <paramref name="address"/>.</summary>
    public static AddressRange Classify(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> b = stackalloc byte[4];
            address.TryWriteBytes(b, out _);
            return b[0] switch
            {
                0 => AddressRange.NotUnicast,                                  // "this network", 0.0.0.0 reaches this host on Linux
                127 => AddressRange.Loopback,
                10 => AddressRange.Private,
                172 when (b[1] & 0xF0) == 16 => AddressRange.Private,
                192 when b[1] == 168 => AddressRange.Private,
                100 when (b[1] & 0xC0) == 64 => AddressRange.Private,          // CGNAT 100.64/10
                198 when (b[1] & 0xFE) == 18 => AddressRange.Private,          // 198.18/15, benchmarking (RFC 2544)
                192 when b[1] == 0 && b[2] == 0 => AddressRange.Private,       // 192.0.0/24, IETF protocol assignments
                169 when b[1] == 254 => AddressRange.LinkLocal,
                >= 224 => AddressRange.NotUnicast,                             // multicast, reserved, broadcast
                _ => AddressRange.Public,
            };
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            if (address.Equals(IPAddress.IPv6Loopback))
            {
                return AddressRange.Loopback;
            }

            Span<byte> b = stackalloc byte[16];
            address.TryWriteBytes(b, out _);
            if (address.Equals(IPAddress.IPv6Any) || b[0] == 0xFF)
            {
                return AddressRange.NotUnicast;
            }

            if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80)
            {
                return AddressRange.LinkLocal;
            }

            if ((b[0] & 0xFE) == 0xFC || (b[0] == 0xFE && (b[1] & 0xC0) == 0xC0))
            {
                return AddressRange.Private; // ULA fc00::/7, and the deprecated site-local fec0::/10
            }

            if (b[0] == 0x20 && b[1] == 0x02)
            {
                return Classify(new IPAddress(b[2..6])); // 6to4 2002::/16 carries an IPv4 address: judge that one
            }

            // IPv4-compatible (::a.b.c.d, deprecated) and NAT64 (64:ff9b::/96) carry an IPv4 address: judge that one.
            var compatible = b[..12].IndexOfAnyExcept((byte)0) < 0;
            var nat64 = b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B && b[4..12].IndexOfAnyExcept((byte)0) < 0;
            if (compatible || nat64)
            {
                return Classify(new IPAddress(b[12..]));
            }

            return AddressRange.Public;
        }

        return AddressRange.NotUnicast;
    }

    /// <summary>Null when <paramref name="address"/>:<paramref name="port"/> may be contacted, else why not (for a status text).</summary>
    public string? Check(IPAddress address, int port)
    {
        var range = Classify(address);
        if (IsOwnListener(address, range, port))
        {
            return "it is this server's own listener";
        }

        // This machine's own public address reaches every service on it that a firewall hides from outside.
        if (range == AddressRange.Public && !_allowPrivateNetworks && IsOwnAddress(address))
        {
            return "it is an address of this server (set MediaServer:Restream:AllowPrivateNetworks=true to allow)";
        }

        return range switch
        {
            AddressRange.Public => null,
            AddressRange.Loopback or AddressRange.Private when _allowPrivateNetworks => null,
            AddressRange.Loopback => "it is a loopback address (set MediaServer:Restream:AllowPrivateNetworks=true to allow)",
            AddressRange.Private => "it is a private network address (set MediaServer:Restream:AllowPrivateNetworks=true to allow)",
            AddressRange.LinkLocal => "it is a link-local address",
            _ => "it is not a unicast address",
        };
    }

    /// <summary>
    /// Resolves <paramref name="host"/> once and returns the first address the policy allows, the one to connect
    /// to. Throws <see cref="OutboundAddressRefusedException"/> when it resolves only to refused addresses and
    /// <see cref="SocketException"/> when it does not resolve.
    /// </summary>
    public async ValueTask<IPEndPoint> ResolveAsync(string host, int port, CancellationToken cancellationToken)
    {
        var addresses = IPAddress.TryParse(host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        string? firstRefusal = null;
        foreach (var address in addresses)
        {
            var refusal = Check(address, port);
            if (refusal is null)
            {
                return new IPEndPoint(address, port);
            }

            firstRefusal ??= $"{address}: {refusal}";
        }

        throw new OutboundAddressRefusedException(firstRefusal is null
            ? $"Address not allowed: {host} resolves to no address; not contacted."
            : $"Address not allowed: {host}:{port} resolves to {firstRefusal}; not contacted.");
    }

    private bool IsOwnListener(IPAddress address, AddressRange range, int port) =>
        Array.IndexOf(_ownPorts, port) >= 0 && (range is AddressRange.Loopback or AddressRange.NotUnicast || IsOwnAddress(address));

    // An address on one of this machine's network interfaces (its public address on a VPS, say).
    private static bool IsOwnAddress(IPAddress address)
    {
        var ipv4 = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        try
        {
            foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
            {
                foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
                {
                    if (unicast.Address.Equals(ipv4))
                    {
                        return true;
                    }
                }
            }
        }
        catch (NetworkInformationException)
        {
            return true; // cannot tell: refuse rather than risk a loop into ourselves
        }

        return false;
    }
}
