using System.Globalization;
using System.Text.Json;
using MediaServer.Host.Auth;
using MediaServer.Host.Configuration;
using MediaServer.Host.Data;

namespace MediaServer.Host.Cli;

/// <summary>
/// Command-line verbs of the server binary, for quick starts and scripts:
/// <c>apikey create [--name N]</c>, <c>apikey list</c>, <c>apikey revoke KEY</c>,
/// <c>token --apikey KEY [--secret S] [--expires 24h]</c> (an API token),
/// <c>token --apikey KEY --playback-id P [--expires 1h]</c> (a playback token for one playback id). They work on the same database as the server
/// (configuration keys such as <c>--MediaServer:DataDirectory=...</c> apply).
/// </summary>
internal static class Cli
{
    public static bool IsVerb(string[] args) => args.Length > 0 && args[0] is "apikey" or "token" or "help" or "--help";

    public static async Task<int> RunAsync(string[] args, IConfiguration configuration, TextWriter output, TextWriter error)
    {
        var options = configuration.GetSection(MediaServerOptions.SectionName).Get<MediaServerOptions>() ?? new MediaServerOptions();
        var database = new Database(options.DataDirectory);
        await database.MigrateAsync();
        var keys = new ApiKeyStore(database, TimeProvider.System);
        var verbArgs = args.Where(a => !a.StartsWith("--MediaServer:", StringComparison.OrdinalIgnoreCase)).ToArray();
        try
        {
            return verbArgs switch
            {
                ["apikey", "create", .. var rest] => await CreateKeyAsync(keys, rest, output),
                ["apikey", "list"] => await ListKeysAsync(keys, output),
                ["apikey", "revoke", var key] => await RevokeKeyAsync(keys, key, output, error),
                ["token", .. var rest] => await TokenAsync(keys, rest, output, error),
                _ => Usage(error),
            };
        }
        catch (ArgumentException e)
        {
            await error.WriteLineAsync(e.Message);
            return 2;
        }
    }

    private static async Task<int> CreateKeyAsync(ApiKeyStore keys, string[] rest, TextWriter output)
    {
        var name = Option(rest, "--name");
        var key = await keys.CreateAsync(name);
        await output.WriteLineAsync(JsonSerializer.Serialize(new Dictionary<string, string> { ["apiKey"] = key.ApiKey, ["secret"] = key.Secret }));
        return 0;
    }

    private static async Task<int> ListKeysAsync(ApiKeyStore keys, TextWriter output)
    {
        foreach (var key in await keys.ListAsync())
        {
            var state = key.IsRevoked ? "revoked " + key.RevokedAt!.Value.ToString("u", CultureInfo.InvariantCulture) : "active";
            await output.WriteLineAsync($"{key.ApiKey}\t{key.Name}\t{key.CreatedAt.ToString("u", CultureInfo.InvariantCulture)}\t{state}");
        }

        return 0;
    }

    private static async Task<int> RevokeKeyAsync(ApiKeyStore keys, string key, TextWriter output, TextWriter error)
    {
        if (await keys.RevokeAsync(key))
        {
            await output.WriteLineAsync($"revoked {key}");
            return 0;
        }

        await error.WriteLineAsync($"no active API key {key}");
        return 1;
    }

    private static async Task<int> TokenAsync(ApiKeyStore keys, string[] rest, TextWriter output, TextWriter error)
    {
        var apiKey = Option(rest, "--apikey") ?? throw new ArgumentException("token needs --apikey KEY");
        var secret = Option(rest, "--secret");
        if (secret is null)
        {
            var stored = await keys.FindAsync(apiKey);
            if (stored is null || stored.IsRevoked)
            {
                await error.WriteLineAsync($"no active API key {apiKey}; pass --secret to sign for a key this database does not hold");
                return 1;
            }

            secret = stored.Secret;
        }

        var expiresText = Option(rest, "--expires");
        if (Option(rest, "--playback-id") is { } playbackId)
        {
            // A playback token: opens this one playback id (HLS, recordings, RTMP play; in a URL too), never the API.
            var lifetime = expiresText is null ? AccessTokenValidator.DefaultPlaybackLifetime : ParseDuration(expiresText);
            if (lifetime is not { } l || l > AccessTokenValidator.MaxPlaybackLifetime)
            {
                throw new ArgumentException($"--expires '{expiresText}': a playback token expires within 7d (e.g. 1h, 7d)");
            }

            await output.WriteLineAsync(AccessTokenValidator.CreatePlaybackToken(apiKey, secret, playbackId, l, TimeProvider.System).Token);
            return 0;
        }

        var expires = expiresText is not null ? ParseDuration(expiresText) : TimeSpan.FromHours(24);
        await output.WriteLineAsync(AccessTokenValidator.CreateToken(apiKey, secret, expires, TimeProvider.System));
        return 0;
    }

    /// <summary>Durations as the page's snippets write them: <c>24h</c>, <c>30m</c>, <c>90s</c>, <c>7d</c>; <c>never</c> for no exp.</summary>
    internal static TimeSpan? ParseDuration(string text)
    {
        if (text == "never")
        {
            return null;
        }

        if (text.Length >= 2 && double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n > 0)
        {
            return text[^1] switch
            {
                's' => TimeSpan.FromSeconds(n),
                'm' => TimeSpan.FromMinutes(n),
                'h' => TimeSpan.FromHours(n),
                'd' => TimeSpan.FromDays(n),
                _ => throw new ArgumentException($"--expires '{text}': use a number with s, m, h or d, e.g. 24h"),
            };
        }

        throw new ArgumentException($"--expires '{text}': use a number with s, m, h or d, e.g. 24h");
    }

    private static string? Option(string[] args, string name)
    {
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == name)
            {
                return i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{name} needs a value");
            }

            if (args[i].StartsWith(name + "=", StringComparison.Ordinal))
            {
                return args[i][(name.Length + 1)..];
            }
        }

        return null;
    }

    private static int Usage(TextWriter error)
    {
        error.WriteLine("""
            usage: MediaServer [--MediaServer:Key=Value ...]                 run the server
                   MediaServer apikey create [--name N]                      create an API key + secret (printed once, as JSON)
                   MediaServer apikey list                                   list API keys
                   MediaServer apikey revoke KEY                             revoke an API key
                   MediaServer token --apikey KEY [--secret S] [--expires 24h|never]   print an API token
                   MediaServer token --apikey KEY --playback-id P [--secret S] [--expires 1h]
                                                                     print a playback token (at most 7d) for ?token=
            """);
        return 2;
    }
}
