using MediaServer.Core.Streams;
using MediaServer.Hls.Segmenting;
using MediaServer.Hls.Serving;
using MediaServer.Hls.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace MediaServer.Hls;

/// <summary>Registers the HLS output: options, store, service (hosted), muxer factory and playback authorizer.</summary>
public static class HlsServiceCollectionExtensions
{
    /// <summary>Adds HLS with options bound from <paramref name="section"/> (normally <c>MediaServer:Hls</c>).</summary>
    public static IServiceCollection AddMediaServerHls(this IServiceCollection services, IConfiguration section)
    {
        services.AddOptions<HlsOptions>().Bind(section).ValidateOnStart();
        return AddCore(services);
    }

    /// <summary>Adds HLS with options set in code.</summary>
    public static IServiceCollection AddMediaServerHls(this IServiceCollection services, Action<HlsOptions>? configure = null)
    {
        var builder = services.AddOptions<HlsOptions>();
        if (configure is not null)
        {
            builder.Configure(configure);
        }

        builder.ValidateOnStart();
        return AddCore(services);
    }

    private static IServiceCollection AddCore(IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<HlsOptions>, HlsOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<StreamHub>();
        services.TryAddSingleton(static sp => new HlsStreamStore(sp.GetRequiredService<IOptions<HlsOptions>>().Value));
        services.TryAddSingleton<IPlaybackAuthorizer, AllowAllPlaybackAuthorizer>();
        services.AddMetrics();
        services.TryAddSingleton<HlsMetrics>();
        services.TryAddSingleton<HlsService>();
        services.AddHostedService(static sp => sp.GetRequiredService<HlsService>());
        return services;
    }
}
