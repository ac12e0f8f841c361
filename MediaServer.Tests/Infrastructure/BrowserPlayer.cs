using System.Text.Json;

namespace MediaServer.Tests.Infrastructure;

/// <summary>What a headless Chromium player saw.</summary>
/// <param name="Parts">LL-HLS parts hls.js loaded.</param>
/// <param name="Fragments">Whole segments hls.js loaded.</param>
/// <param name="Stalls">bufferStalledError events (playback waited for data).</param>
/// <param name="Latency">hls.js's own estimate of the distance to the live edge (s), when it has one.</param>
internal sealed record BrowserPlayback(bool Ok, double CurrentTime, int VideoWidth, string[] Errors, string Raw, int Parts = 0, int Fragments = 0, int Stalls = 0, double? Latency = null);

/// <summary>Headless Chromium (Debian's) with hls.js or video.js, driven by Clients/play.mjs.</summary>
internal static class BrowserPlayer
{
    public static async Task<BrowserPlayback> PlayAsync(string player, string url, string? authorization, double seconds)
    {
        Tools.RequireChromium();

        var result = await NodeClients.RunAsync("play.mjs", player, url, authorization ?? "", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var line = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault(l => l.StartsWith('{')) ?? "";
        if (line.Length == 0)
        {
            Assert.Fail("the browser player printed no result: " + result);
        }

        using var json = JsonDocument.Parse(line);
        var root = json.RootElement;
        return new BrowserPlayback(
            root.GetProperty("ok").GetBoolean(),
            root.TryGetProperty("currentTime", out var t) ? t.GetDouble() : 0,
            root.TryGetProperty("videoWidth", out var w) ? w.GetInt32() : 0,
            [.. root.GetProperty("errors").EnumerateArray().Select(e => e.ToString())],
            line + "\n" + result.StandardError,
            root.TryGetProperty("parts", out var p) ? p.GetInt32() : 0,
            root.TryGetProperty("fragments", out var f) ? f.GetInt32() : 0,
            root.TryGetProperty("stalls", out var st) ? st.GetInt32() : 0,
            root.TryGetProperty("latency", out var l) && l.ValueKind == JsonValueKind.Number ? l.GetDouble() : null);
    }
}
