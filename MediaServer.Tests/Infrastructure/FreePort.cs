using System.Net;
using System.Net.Sockets;

namespace MediaServer.Tests.Infrastructure;

/// <summary>Picks free loopback TCP ports for servers started by tests.</summary>
internal static class FreePort
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
