using System.Globalization;

namespace MediaServer.Host.Configuration;

/// <summary>The URLs the server hands out, from <c>PublicBaseUrl</c> and the RTMP port.</summary>
internal readonly record struct PublicUrls(string HttpBase, string RtmpBase)
{
    public const int DefaultRtmpPort = 1935;

    public static PublicUrls From(MediaServerOptions options)
    {
        var http = options.GetPublicBaseUri();
        var httpBase = http.GetLeftPart(UriPartial.Path).TrimEnd('/');
        var host = http.Host; // IPv6 hosts come bracketed
        var rtmp = options.Rtmp.Port == DefaultRtmpPort
            ? $"rtmp://{host}"
            : string.Create(CultureInfo.InvariantCulture, $"rtmp://{host}:{options.Rtmp.Port}");
        return new PublicUrls(httpBase, rtmp);
    }
}

/// <summary>Where a livestream plays, without a token: HLS (multivariant playlist), the latest recording, RTMP.</summary>
internal readonly record struct PlaybackUrls(string Hls, string Recording, string Rtmp)
{
    public static PlaybackUrls Of(Data.LivestreamRecord livestream, PublicUrls urls) => new(
        $"{urls.HttpBase}/live/{livestream.PlaybackId}/index.m3u8",
        $"{urls.HttpBase}/recordings/{livestream.PlaybackId}/index.m3u8",
        $"{urls.RtmpBase}/live/{livestream.PlaybackId}");
}
