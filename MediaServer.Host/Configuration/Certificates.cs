using System.Security.Cryptography.X509Certificates;

namespace MediaServer.Host.Configuration;

/// <summary>Loads the RTMPS certificate from a PFX file or a PEM certificate + key pair.</summary>
internal static class Certificates
{
    public static X509Certificate2 Load(RtmpsListenerOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.CertificatePath))
        {
            throw new InvalidOperationException("MediaServer:Rtmps:Port is set but MediaServer:Rtmps:CertificatePath is not: RTMPS needs a certificate.");
        }

        if (!File.Exists(options.CertificatePath))
        {
            throw new InvalidOperationException($"RTMPS certificate file not found: {options.CertificatePath}");
        }

        if (!string.IsNullOrWhiteSpace(options.KeyPath))
        {
            using var pem = string.IsNullOrEmpty(options.Password)
                ? X509Certificate2.CreateFromPemFile(options.CertificatePath, options.KeyPath)
                : X509Certificate2.CreateFromEncryptedPemFile(options.CertificatePath, options.Password, options.KeyPath);
            // Round-trip through PKCS#12 so the private key is usable by SslStream on every platform.
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }

        return X509CertificateLoader.LoadPkcs12FromFile(options.CertificatePath, options.Password);
    }
}
