using System.Globalization;

namespace MediaServer.Benchmarks.Load;

/// <summary>
/// One histogram of a server's Prometheus endpoint (<c>/metrics</c>), read twice to measure a window: the buckets'
/// difference gives the count and the quantiles (linear within a bucket, as Prometheus' <c>histogram_quantile</c>).
/// Servers without the endpoint (nginx-rtmp) give null.
/// </summary>
internal sealed class ServerHistogram
{
    private readonly SortedDictionary<double, double> _cumulative;

    private ServerHistogram(SortedDictionary<double, double> cumulative) => _cumulative = cumulative;

    public double Count => _cumulative.Count == 0 ? 0 : _cumulative.Last().Value;

    /// <summary>The metrics URL of the server an HLS URL points at.</summary>
    public static Uri MetricsUri(Uri hls) => new(hls, "/metrics");

    /// <summary>Reads <paramref name="name"/> (its <c>_bucket</c> series whose labels include <paramref name="label"/>, e.g.
    /// <c>kind="part"</c>; null: all series summed); null when the server has no such metric.</summary>
    public static async Task<ServerHistogram?> ReadAsync(HttpClient http, Uri metrics, string name, string? label = null)
    {
        string text;
        try
        {
            using var response = await http.GetAsync(metrics).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            text = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
        }
        catch (HttpRequestException)
        {
            return null;
        }

        var buckets = new SortedDictionary<double, double>();
        foreach (var line in text.Split('\n'))
        {
            if (!line.StartsWith(name + "_bucket{", StringComparison.Ordinal) || (label is not null && !line.Contains(label, StringComparison.Ordinal)))
            {
                continue;
            }

            var le = line.IndexOf("le=\"", StringComparison.Ordinal);
            var close = le < 0 ? -1 : line.IndexOf('"', le + 4);
            var space = line.LastIndexOf(' ');
            if (close < 0 || space < close)
            {
                continue;
            }

            var boundText = line[(le + 4)..close];
            var bound = boundText == "+Inf" ? double.PositiveInfinity : double.Parse(boundText, CultureInfo.InvariantCulture);
            buckets[bound] = buckets.GetValueOrDefault(bound) + double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
        }

        return buckets.Count == 0 ? null : new ServerHistogram(buckets);
    }

    /// <summary>What was recorded between <paramref name="before"/> (null: from the start) and this reading.</summary>
    public ServerHistogram Since(ServerHistogram? before)
    {
        var delta = new SortedDictionary<double, double>();
        foreach (var (bound, count) in _cumulative)
        {
            delta[bound] = count - (before?._cumulative.GetValueOrDefault(bound) ?? 0);
        }

        return new ServerHistogram(delta);
    }

    /// <summary>The <paramref name="q"/> quantile (0..1) in the histogram's unit; NaN when empty; the highest finite
    /// bound when it falls in the +Inf bucket.</summary>
    public double Quantile(double q)
    {
        var total = Count;
        if (total <= 0)
        {
            return double.NaN;
        }

        var rank = q * total;
        double lower = 0, below = 0;
        foreach (var (bound, count) in _cumulative)
        {
            if (count >= rank)
            {
                return double.IsPositiveInfinity(bound) ? lower : lower + ((bound - lower) * (rank - below) / Math.Max(1e-12, count - below));
            }

            if (!double.IsPositiveInfinity(bound))
            {
                lower = bound;
            }

            below = count;
        }

        return lower;
    }

    /// <summary>The share of observations at or under <paramref name="bound"/> (one of the bucket bounds).</summary>
    public double ShareAtOrBelow(double bound) =>
        Count <= 0 ? double.NaN : _cumulative.Where(b => b.Key <= bound + 1e-12).Select(b => b.Value).DefaultIfEmpty(0).Max() / Count;
}
