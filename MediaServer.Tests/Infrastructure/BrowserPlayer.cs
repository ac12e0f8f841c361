using System.Text.Json;

namespace MediaServer.Tests.Infrastructure;

/// <summary>What a headless Chromium player saw.</summary>
internal sealed record BrowserPlayback(bool Ok, double CurrentTime, int VideoWidth, string[] Errors, string Raw);

/// <summary>
/// Headless Chromium with hls.js or video.js (MediaServer.Tests/Browser/play.mjs). Needs node and Debian's
/// chromium; `.ci/run` installs both and runs `npm ci` in the Browser folder.
/// </summary>
internal static class BrowserPlayer
{
    private static readonly string s_folder = FindFolder();
    private static readonly SemaphoreSlim s_install = new(1, 1);

    public static async Task<BrowserPlayback> PlayAsync(string player, string url, string? authorization, double seconds)
    {
        await EnsureInstalledAsync();
        var result = await ProcessRunner.RunAsync("node", [Path.Combine(s_folder, "play.mjs"), player, url, authorization ?? "", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            TimeSpan.FromSeconds(120));
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

    /// <summary>MediaServer.Tests/Browser in the source tree (node_modules is installed there once).</summary>
    private static string FindFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "MediaServer.Tests", "Browser");
            if (File.Exists(Path.Combine(candidate, "play.mjs")))
            {
                return candidate;
            }

            if (File.Exists(Path.Combine(dir.FullName, "Browser", "play.mjs")))
            {
                return Path.Combine(dir.FullName, "Browser");
            }
        }

        throw new DirectoryNotFoundException("MediaServer.Tests/Browser not found above " + AppContext.BaseDirectory);
    }

    private static async Task EnsureInstalledAsync()
    {
        if (!File.Exists("/usr/bin/chromium") && Environment.GetEnvironmentVariable("CHROMIUM_PATH") is null)
        {
            Assert.Ignore("Chromium is not installed (apt-get install -y chromium); .ci/run installs it.");
        }

        await s_install.WaitAsync();
        try
        {
            if (!Directory.Exists(Path.Combine(s_folder, "node_modules", "hls.js")))
            {
                var install = await ProcessRunner.RunAsync("npm", ["ci", "--prefix", s_folder, "--no-audit", "--no-fund"], TimeSpan.FromMinutes(5));
                Assert.That(install.ExitCode, Is.Zero, "npm ci failed: " + install);
            }
        }
        finally
        {
            s_install.Release();
        }
    }
}
