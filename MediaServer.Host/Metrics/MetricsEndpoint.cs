using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using System.Text;
using MediaServer.Hls;
using MediaServer.Host.Configuration;
using Prometheus;

namespace MediaServer.Host.Metrics;

/// <summary>
/// <c>GET /metrics</c> in the Prometheus text format (prometheus-net): the server's own meter
/// (<see cref="HlsMetrics.MeterName"/>), the .NET runtime's and Kestrel's meters, and the process (CPU, memory).
/// Histograms use the bucket bounds their instruments advise.
/// </summary>
public static class MetricsEndpoint
{
    public const string Path = "/metrics";

    private static readonly HashSet<string> s_meters = [HlsMetrics.MeterName, "System.Runtime", "Microsoft.AspNetCore.Server.Kestrel"];
    private static readonly double[] s_defaultBuckets = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];

    public static void Map(WebApplication app, MetricsOptions options)
    {
        if (!options.Enabled)
        {
            return;
        }

        // The runtime's counters come from the System.Runtime meter; EventCounters would repeat them. The meters are
        // listened to from start-up (the default adapter would start at the first scrape and miss what came before).
        Prometheus.Metrics.SuppressDefaultMetrics(new SuppressDefaultMetricOptions { SuppressEventCounters = true, SuppressDebugMetrics = true, SuppressMeters = true });
        var adapter = MeterAdapter.StartListening(new MeterAdapterOptions
        {
            InstrumentFilterPredicate = static instrument => s_meters.Contains(instrument.Meter.Name),
            ResolveHistogramBuckets = static instrument => instrument is Histogram<double> { Advice.HistogramBucketBoundaries: { } bounds }
                ? [.. bounds]
                : s_defaultBuckets,
        });
        app.Lifetime.ApplicationStopped.Register(adapter.Dispose);

        if (options.BearerToken is { Length: > 0 } token)
        {
            var expected = Encoding.UTF8.GetBytes("Bearer " + token);
            app.Use(async (context, next) =>
            {
                if (context.Request.Path.Equals(Path, StringComparison.Ordinal)
                    && !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(context.Request.Headers.Authorization.ToString()), expected))
                {
                    context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                    context.Response.Headers.WWWAuthenticate = "Bearer";
                    return;
                }

                await next(context);
            });
        }

        app.MapMetrics(Path);
    }
}
