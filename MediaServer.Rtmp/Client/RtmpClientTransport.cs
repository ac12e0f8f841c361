using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;

namespace MediaServer.Rtmp.Client;

/// <summary>
/// The TCP (or TLS for <c>rtmps://</c>) connection under every client: connect and TLS handshake bounded by
/// <see cref="RtmpClientOptions"/>, then the stream as an <see cref="IDuplexPipe"/>. Shared by
/// <see cref="RtmpPublishClient"/> and <see cref="RtmpPlayClient"/>.
/// </summary>
internal static class RtmpClientTransport
{
    /// <summary>Connects; the caller owns the returned stream (disposing it closes the socket).</summary>
    public static async Task<(IDuplexPipe Pipe, Stream Stream)> ConnectAsync(RtmpPublishTarget target, RtmpClientOptions options, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Stream? stream = null;
        try
        {
            using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                connectTimeout.CancelAfter(options.ConnectTimeout);
                try
                {
                    if (options.ResolveEndpoint is { } resolve)
                    {
                        var endpoint = await resolve(target.Host, target.Port, connectTimeout.Token).ConfigureAwait(false);
                        await socket.ConnectAsync(endpoint, connectTimeout.Token).ConfigureAwait(false);
                    }
                    else
                    {
                        await socket.ConnectAsync(target.Host, target.Port, connectTimeout.Token).ConfigureAwait(false);
                    }
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new RtmpProtocolException(RtmpProtocolError.CommandTimeout, $"TCP connect to {target.Host}:{target.Port} timed out after {options.ConnectTimeout.TotalSeconds:0.#} s.");
                }
            }

            stream = new NetworkStream(socket, ownsSocket: true);
            if (target.UseTls)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                using var tlsTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                tlsTimeout.CancelAfter(options.HandshakeTimeout);
                var tls = new SslClientAuthenticationOptions
                {
                    TargetHost = target.Host, // SNI, and the name the certificate must carry
                };
                if (options.AllowUntrustedCertificates)
                {
#pragma warning disable CA5359 // Opt-in only (RtmpClientOptions.AllowUntrustedCertificates, default off): tests and self-signed private servers.
                    tls.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
#pragma warning restore CA5359
                }

                try
                {
                    await ssl.AuthenticateAsClientAsync(tls, tlsTimeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new RtmpProtocolException(RtmpProtocolError.HandshakeTimeout, $"TLS handshake with {target.Host}:{target.Port} timed out after {options.HandshakeTimeout.TotalSeconds:0.#} s.");
                }
            }

            return (new StreamDuplexPipe(PipeReader.Create(stream), PipeWriter.Create(stream)), stream);
        }
        catch
        {
            if (stream is not null)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                socket.Dispose();
            }

            throw;
        }
    }

    private sealed record StreamDuplexPipe(PipeReader Input, PipeWriter Output) : IDuplexPipe;
}
