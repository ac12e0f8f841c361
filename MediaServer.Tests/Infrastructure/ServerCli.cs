using System.Text.Json;

namespace MediaServer.Tests.Infrastructure;

/// <summary>The server binary's CLI verbs (apikey, token), run as a user would, against a data folder.</summary>
internal static class ServerCli
{
    public static async Task<ProcessResult> RunAsync(string dataDirectory, params string[] arguments)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "MediaServer.dll");
        return await ProcessRunner.RunAsync("dotnet", [dll, .. arguments, $"--MediaServer:DataDirectory={dataDirectory}"], TimeSpan.FromSeconds(60));
    }

    /// <summary>Creates an API key with <c>apikey create</c> and returns (apiKey, secret).</summary>
    public static async Task<(string ApiKey, string Secret)> CreateApiKeyAsync(string dataDirectory, string name = "test")
    {
        var result = await RunAsync(dataDirectory, "apikey", "create", "--name", name);
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        using var json = JsonDocument.Parse(result.StandardOutput);
        return (json.RootElement.GetProperty("apiKey").GetString()!, json.RootElement.GetProperty("secret").GetString()!);
    }

    /// <summary>Makes an access token with the <c>token</c> verb.</summary>
    public static async Task<string> TokenAsync(string dataDirectory, string apiKey)
    {
        var result = await RunAsync(dataDirectory, "token", "--apikey", apiKey);
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        return result.StandardOutput.Trim();
    }
}
