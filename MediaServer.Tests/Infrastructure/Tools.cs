namespace MediaServer.Tests.Infrastructure;

/// <summary>
/// Presence checks for the external tools the tests drive. A missing tool skips the test on a developer's
/// machine, but fails it under CI (the <c>CI</c> environment variable set), where <c>.ci/run</c> installs
/// every tool and a skip would only hide that the installation broke.
/// </summary>
internal static class Tools
{
    public static bool InCi => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"));

    /// <summary>Ignores the test locally, fails it under CI, when <paramref name="present"/> is false.</summary>
    /// <param name="what">The tool, as the message names it.</param>
    /// <param name="installHint">How to install it, e.g. <c>apt-get install -y ffmpeg</c>.</param>
    public static void RequireTool(string what, bool present, string installHint)
    {
        if (present)
        {
            return;
        }

        var message = $"{what} is not installed ({installHint}); .ci/run installs it.";
        if (InCi)
        {
            Assert.Fail(message + " CI is set, so a missing tool is a failure, not a skip.");
        }

        Assert.Ignore(message);
    }

    /// <summary>ffmpeg and ffprobe.</summary>
    public static void RequireFfmpeg() => RequireTool("ffmpeg", MediaTestData.HasFfmpeg, "apt-get install -y ffmpeg");

    /// <summary>gst-launch-1.0 with the plugins the encoder tests use.</summary>
    public static void RequireGstreamer() => RequireTool("gst-launch-1.0", File.Exists("/usr/bin/gst-launch-1.0"),
        "apt-get install -y gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly");

    /// <summary>The Chromium the node players launch: CHROMIUM_PATH when set (as play.mjs reads it), else Debian's.</summary>
    public static string ChromiumPath =>
        Environment.GetEnvironmentVariable("CHROMIUM_PATH") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    public static void RequireChromium() => RequireTool($"Chromium ({ChromiumPath})", File.Exists(ChromiumPath), "apt-get install -y chromium, or set CHROMIUM_PATH");
}
