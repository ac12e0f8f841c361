namespace MediaServer.Tests.Infrastructure;

/// <summary>
/// MediaServer.Tests/Clients: real Node.js clients (hls.js and video.js in Chromium, jsonwebtoken), pinned by
/// its package-lock.json. `.ci/run` runs `npm ci` there; a developer's first test run does it if needed.
/// </summary>
internal static class NodeClients
{
    private static readonly SemaphoreSlim s_install = new(1, 1);

    public static string Folder { get; } = FindFolder();

    public static async Task EnsureInstalledAsync()
    {
        await s_install.WaitAsync();
        try
        {
            if (!Directory.Exists(Path.Combine(Folder, "node_modules", "hls.js")))
            {
                var install = await ProcessRunner.RunAsync("npm", ["ci", "--prefix", Folder, "--no-audit", "--no-fund"], TimeSpan.FromMinutes(5));
                Assert.That(install.ExitCode, Is.Zero, "npm ci failed: " + install);
            }
        }
        finally
        {
            s_install.Release();
        }
    }

    public static async Task<ProcessResult> RunAsync(string script, params string[] arguments)
    {
        await EnsureInstalledAsync();
        return await ProcessRunner.RunAsync("node", [Path.Combine(Folder, script), .. arguments], TimeSpan.FromSeconds(120));
    }

    private static string FindFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "MediaServer.Tests", "Clients");
            if (File.Exists(Path.Combine(candidate, "package.json")))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("MediaServer.Tests/Clients not found above " + AppContext.BaseDirectory);
    }
}
