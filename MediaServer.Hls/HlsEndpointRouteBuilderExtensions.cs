using MediaServer.Hls.Serving;
using Microsoft.AspNetCore.Routing;

namespace MediaServer.Hls;

/// <summary>Maps the HLS HTTP endpoints (see <see cref="HlsEndpoints"/>).</summary>
public static class HlsEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps <c>GET|HEAD|OPTIONS {prefix}/{streamId}/index.m3u8</c> and <c>{prefix}/{streamId}/{session}-{seq}.ts</c>,
    /// served from the <see cref="Storage.HlsStreamStore"/> registered by <c>AddMediaServerHls</c>.
    /// </summary>
    public static IEndpointRouteBuilder MapHls(this IEndpointRouteBuilder endpoints, string prefix = "/live") =>
        HlsEndpoints.Map(endpoints, prefix);
}
