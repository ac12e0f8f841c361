using MediaServer.Core.Streams;
using MediaServer.Hls;
using MediaServer.Hls.Serving;
using MediaServer.Hls.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace MediaServer.Tests.Hls;

public class HlsServiceCollectionExtensionsTests
{
    private static IConfiguration Config(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value)))
            .Build();

    [Test]
    public void AddMediaServerHls_ConfigSection_BindsOptionsAndRegistersServices()
    {
        var config = Config(
            ("MediaServer:Hls:SegmentDuration", "00:00:04"),
            ("MediaServer:Hls:PlaylistLength", "5"),
            ("MediaServer:Hls:EndedStreamRetention", "00:02:00"));
        var services = new ServiceCollection()
            .AddLogging()
            .AddMediaServerHls(config.GetSection(HlsOptions.SectionName));
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<HlsOptions>>().Value;
        Assert.That(options.SegmentDuration, Is.EqualTo(TimeSpan.FromSeconds(4)));
        Assert.That(options.PlaylistLength, Is.EqualTo(5));
        Assert.That(options.EndedStreamRetention, Is.EqualTo(TimeSpan.FromMinutes(2)));
        Assert.That(options.EffectiveRetainRemovedSegmentsFor, Is.EqualTo(TimeSpan.FromSeconds(24)), "4 s × (5 + 1)");
        Assert.That(services.Single(d => d.ServiceType == typeof(HlsStreamStore)).Lifetime, Is.EqualTo(ServiceLifetime.Singleton), "one store per server");
        Assert.That(services.Single(d => d.ServiceType == typeof(StreamHub)).Lifetime, Is.EqualTo(ServiceLifetime.Singleton), "one hub per server");
        Assert.That(provider.GetRequiredService<IPlaybackAuthorizer>(), Is.InstanceOf<AllowAllPlaybackAuthorizer>());
        Assert.That(provider.GetServices<IHostedService>().Single(), Is.SameAs(provider.GetRequiredService<HlsService>()));
    }

    [TestCase(null, 200)]
    [TestCase("00:00:00", 0)]
    [TestCase("00:00:00.5", 500)]
    public void PartDuration_DefaultsToLowLatency_ZeroTurnsItOff(string? configured, long expectedPartTargetMs)
    {
        var config = configured is null ? Config() : Config(("MediaServer:Hls:PartDuration", configured));
        using var provider = new ServiceCollection()
            .AddLogging()
            .AddMediaServerHls(config.GetSection(HlsOptions.SectionName))
            .BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<HlsOptions>>().Value;
        using var stream = new HlsStream("cam", options, TimeProvider.System, sessionId: "s1");
        Assert.That(stream.PartTargetMs, Is.EqualTo(expectedPartTargetMs));
    }

    [Test]
    public void AddMediaServerHls_InvalidOptions_FailValidation()
    {
        using var provider = new ServiceCollection()
            .AddLogging()
            .AddMediaServerHls(o =>
            {
                o.PlaylistLength = 2;
                o.SegmentDuration = TimeSpan.Zero;
            })
            .BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => _ = provider.GetRequiredService<IOptions<HlsOptions>>().Value);
        Assert.That(error!.Failures, Has.Exactly(1).Contains("PlaylistLength").And.Exactly(1).Contains("SegmentDuration"));
    }

    [Test]
    public void AddMediaServerHls_ContainersThatServeNothing_FailValidation()
    {
        using var provider = new ServiceCollection()
            .AddLogging()
            .AddMediaServerHls(o =>
            {
                o.Container = HlsContainer.Fmp4;
                o.Fmp4Rendition = false;
                o.PartDuration = TimeSpan.FromMilliseconds(50);
            })
            .BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => _ = provider.GetRequiredService<IOptions<HlsOptions>>().Value);
        Assert.That(error!.Failures, Has.Exactly(1).Contains("Fmp4Rendition").And.Exactly(1).Contains("PartDuration"));
    }

    [Test]
    public void AddMediaServerHls_HostRegisteredHub_IsKept()
    {
        var hub = new StreamHub();
        using var provider = new ServiceCollection()
            .AddSingleton(hub)
            .AddMediaServerHls()
            .BuildServiceProvider();

        Assert.That(provider.GetRequiredService<StreamHub>(), Is.SameAs(hub));
    }
}
