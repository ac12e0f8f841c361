using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace MediaServer.Tests.Infrastructure;

/// <summary>A self-signed certificate for 127.0.0.1/localhost, written as a PFX for the server's RTMPS listener.</summary>
internal static class TestCertificate
{
    public static string WritePfx(string directory)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "rtmps-test.pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pkcs12));
        return path;
    }
}
