using MediaServer.Rtmp.Client;

namespace MediaServer.Benchmarks.Load;

/// <summary>An RTMP player of one stream through our <see cref="RtmpPlayClient"/>: reads and counts until the run stops.</summary>
internal sealed class RtmpPlayer(string rtmpUrl, string key)
{
    private long _bytes;

    public long Bytes => Interlocked.Read(ref _bytes);

    public long Messages { get; private set; }

    public string? Error { get; private set; }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            var client = await RtmpPlayClient.ConnectAsync(RtmpPublishTarget.Parse(rtmpUrl, key), new RtmpClientOptions(), cancellationToken).ConfigureAwait(false);
            await using (client.ConfigureAwait(false))
            {
                while (await client.ReadMessageAsync(cancellationToken).ConfigureAwait(false) is { } message)
                {
                    Messages++;
                    Interlocked.Exchange(ref _bytes, client.BytesReceived);
                    message.Payload.Release();
                }

                Error = "the server closed the connection";
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Error = $"play {key}: {ex.Message}";
        }
    }
}
