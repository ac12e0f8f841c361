using System.Net;
using MediaServer.Host.Egress;

namespace MediaServer.Tests.Egress;

internal sealed class OutboundAddressPolicyTests
{
    private const int OwnRtmpPort = 1935;
    private const int OwnHttpPort = 8080;

    // Each forbidden range at its edges, and the public neighbours just outside them.
    private static readonly object[] Ranges =
    [
        new object[] { "127.0.0.1", AddressRange.Loopback },
        new object[] { "127.255.255.254", AddressRange.Loopback },
        new object[] { "::1", AddressRange.Loopback },
        new object[] { "::ffff:127.0.0.1", AddressRange.Loopback },       // IPv4-mapped
        new object[] { "10.0.0.1", AddressRange.Private },
        new object[] { "10.255.255.255", AddressRange.Private },
        new object[] { "172.16.0.1", AddressRange.Private },
        new object[] { "172.31.255.255", AddressRange.Private },
        new object[] { "192.168.1.1", AddressRange.Private },
        new object[] { "::ffff:192.168.1.1", AddressRange.Private },
        new object[] { "100.64.0.1", AddressRange.Private },              // CGNAT
        new object[] { "100.127.255.255", AddressRange.Private },
        new object[] { "fc00::1", AddressRange.Private },                 // ULA
        new object[] { "fdff:ffff::1", AddressRange.Private },
        new object[] { "169.254.169.254", AddressRange.LinkLocal },       // cloud metadata
        new object[] { "::ffff:169.254.169.254", AddressRange.LinkLocal },
        new object[] { "fe80::1", AddressRange.LinkLocal },
        new object[] { "febf::1", AddressRange.LinkLocal },
        new object[] { "0.0.0.0", AddressRange.NotUnicast },
        new object[] { "::", AddressRange.NotUnicast },
        new object[] { "224.0.0.1", AddressRange.NotUnicast },
        new object[] { "239.255.255.250", AddressRange.NotUnicast },
        new object[] { "255.255.255.255", AddressRange.NotUnicast },
        new object[] { "240.0.0.1", AddressRange.NotUnicast },
        new object[] { "ff02::1", AddressRange.NotUnicast },
        new object[] { "::10.0.0.1", AddressRange.Private },              // IPv4-compatible
        new object[] { "64:ff9b::a9fe:a9fe", AddressRange.LinkLocal },    // NAT64 of 169.254.169.254
        new object[] { "8.8.8.8", AddressRange.Public },
        new object[] { "172.15.255.255", AddressRange.Public },
        new object[] { "172.32.0.0", AddressRange.Public },
        new object[] { "100.63.255.255", AddressRange.Public },
        new object[] { "100.128.0.0", AddressRange.Public },
        new object[] { "192.169.0.1", AddressRange.Public },
        new object[] { "2001:4860:4860::8888", AddressRange.Public },
        new object[] { "fec0::1", AddressRange.Private },                 // site-local fec0::/10 (deprecated), just past fe80::/10
        new object[] { "ff00::1", AddressRange.NotUnicast },
        new object[] { "198.18.0.1", AddressRange.Private },              // benchmarking 198.18/15
        new object[] { "198.19.255.255", AddressRange.Private },
        new object[] { "198.17.255.255", AddressRange.Public },
        new object[] { "198.20.0.0", AddressRange.Public },
        new object[] { "192.0.0.8", AddressRange.Private },               // 192.0.0/24
        new object[] { "192.0.1.1", AddressRange.Public },
        new object[] { "2002:7f00:1::1", AddressRange.Loopback },         // 6to4 of 127.0.0.1
        new object[] { "2002:a9fe:a9fe::1", AddressRange.LinkLocal },     // 6to4 of 169.254.169.254
        new object[] { "2002:808:808::1", AddressRange.Public },          // 6to4 of 8.8.8.8
    ];

    [TestCaseSource(nameof(Ranges))]
    public void Classify_Address_GivesItsRange(string address, AddressRange expected) =>
        Assert.That(OutboundAddressPolicy.Classify(IPAddress.Parse(address)), Is.EqualTo(expected));

    [TestCaseSource(nameof(Ranges))]
    public void Check_ByDefault_AllowsOnlyPublicAddresses(string address, AddressRange range)
    {
        var policy = new OutboundAddressPolicy(allowPrivateNetworks: false, [OwnRtmpPort, OwnHttpPort]);
        var refusal = policy.Check(IPAddress.Parse(address), 1936);
        Assert.That(refusal is null, Is.EqualTo(range == AddressRange.Public), refusal);
    }

    [TestCaseSource(nameof(Ranges))]
    public void Check_AllowPrivateNetworks_AllowsLoopbackAndPrivateOnly(string address, AddressRange range)
    {
        var policy = new OutboundAddressPolicy(allowPrivateNetworks: true, [OwnRtmpPort, OwnHttpPort]);
        var refusal = policy.Check(IPAddress.Parse(address), 1936);
        Assert.That(refusal is null, Is.EqualTo(range is AddressRange.Public or AddressRange.Loopback or AddressRange.Private), refusal);
    }

    [Test]
    public void Check_ThisMachinesOwnNonLoopbackAddress_RefusedOnEveryPort_UnlessPrivateNetworksAreAllowed()
    {
        // A VPS's public address is on its network card: a target there reaches every service the firewall hides.
        var own = System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(static nic => nic.GetIPProperties().UnicastAddresses)
            .Select(static u => u.Address)
            .FirstOrDefault(static a => !IPAddress.IsLoopback(a) && OutboundAddressPolicy.Classify(a) is AddressRange.Public or AddressRange.Private);
        Assert.That(own, Is.Not.Null, "the test machine has a non-loopback, non-link-local address on an interface");
        Assert.That(new OutboundAddressPolicy(allowPrivateNetworks: false, [OwnRtmpPort]).Check(own!, 22), Is.Not.Null, own!.ToString());
        Assert.That(new OutboundAddressPolicy(allowPrivateNetworks: true, [OwnRtmpPort]).Check(own, 22), Is.Null, "allowed with AllowPrivateNetworks");
        Assert.That(new OutboundAddressPolicy(allowPrivateNetworks: true, [OwnRtmpPort]).Check(own, OwnRtmpPort), Does.Contain("own listener"));
    }

    [TestCase("127.0.0.1", OwnRtmpPort)]
    [TestCase("127.0.0.2", OwnHttpPort)]
    [TestCase("::1", OwnRtmpPort)]
    [TestCase("::ffff:127.0.0.1", OwnHttpPort)]
    public void Check_OwnListener_RefusedEvenWithAllowPrivateNetworks(string address, int port)
    {
        var policy = new OutboundAddressPolicy(allowPrivateNetworks: true, [OwnRtmpPort, OwnHttpPort]);
        Assert.That(policy.Check(IPAddress.Parse(address), port), Does.Contain("own listener"));
    }

    [Test]
    public async Task ResolveAsync_LocalhostByDefault_IsRefusedNamingTheAddress()
    {
        var policy = new OutboundAddressPolicy(allowPrivateNetworks: false, []);
        var ex = Assert.ThrowsAsync<OutboundAddressRefusedException>(async () => await policy.ResolveAsync("localhost", 1936, CancellationToken.None));
        Assert.That(ex!.Message, Does.Contain("Address not allowed").And.Contain("loopback"));
        var allowed = await new OutboundAddressPolicy(allowPrivateNetworks: true, []).ResolveAsync("localhost", 1936, CancellationToken.None);
        Assert.That(IPAddress.IsLoopback(allowed.Address), Is.True);
    }
}
