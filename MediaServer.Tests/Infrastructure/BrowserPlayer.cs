using System.Text.Json;

namespace MediaServer.Tests.Infrastructure;

/// <summary>What a headless Chromium player saw.</summary>
internal sealed record BrowserPlayback(bool Ok, double CurrentTime, int VideoWidth, string[] Errors, string Raw);

/// <summary>Headless Chromium (Debian's) with hls.js or video.js, driven by Clients/play.mjs.</summary>
internal static class BrowserPlayer
{
    public static async Task<BrowserPlayback> PlayAsync(string player, string url, string? authorization, double seconds)
    {
        if (!File.Exists("/usr/bin/chromium") && Environment.GetEnvironmentVariable("CHROMIUM_PATH") is null)
        {
            Assert.Ignore("Chromium is not installed (apt-get install -y chromium); .ci/run installs it.");
        }

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
            line + "\n" + result.StandardError);
    }
}
