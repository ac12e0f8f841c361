using System.Net;
using System.Text.Json;
using MediaServer.Tests.Infrastructure;
using NUnit.Framework;

namespace MediaServer.Tests.EndToEnd;

/// <summary>
/// <c>/readyz</c> against real faults of a running server (a data folder that refuses the probe file, a database
/// file moved away), and JSON console logs whose lines of a session carry its stream id as a scope.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class HealthAndLoggingTests
{
    private static readonly TimeSpan s_probeReuse = TimeSpan.FromSeconds(1.2); // the probe reuses an answer for 1 s

    [Test]
    public async Task Readyz_AllChecksOk_ThenEachRealFaultIs503_NamingIt_AndRecovers()
    {
        await using var server = await ServerProcess.StartAsync();
        var ready = await ReadAsync(server);
        Assert.That(ready.Status, Is.EqualTo(HttpStatusCode.OK), ready.Body.ToString());
        Assert.That(ready.Body.GetProperty("status").GetString(), Is.EqualTo("ready"));
        foreach (var check in new[] { "listeners", "database", "disk" })
        {
            Assert.That(ready.Body.GetProperty(check).GetString(), Is.EqualTo("ok"), check);
        }

        // The disk: something in the way of the probe file (a folder of its name) fails the write even for root.
        var probe = Path.Combine(server.DataDirectory, ".readyz-probe");
        Directory.CreateDirectory(probe);
        await Task.Delay(s_probeReuse);
        var diskDown = await ReadAsync(server);
        Assert.That(diskDown.Status, Is.EqualTo(HttpStatusCode.ServiceUnavailable), diskDown.Body.ToString());
        Assert.That(diskDown.Body.GetProperty("disk").GetString(), Does.StartWith("failed"));
        Assert.That(diskDown.Body.GetProperty("database").GetString(), Is.EqualTo("ok"));
        Directory.Delete(probe);
        await Task.Delay(s_probeReuse);
        Assert.That((await ReadAsync(server)).Status, Is.EqualTo(HttpStatusCode.OK), "ready again once the disk takes writes");

        // The database: its file gone from the data folder (moved away under the running server, then back).
        var databaseFile = Path.Combine(server.DataDirectory, "mediaserver.db");
        File.Move(databaseFile, databaseFile + ".away");
        await Task.Delay(s_probeReuse);
        var databaseDown = await ReadAsync(server);
        File.Move(databaseFile + ".away", databaseFile);
        Assert.That(databaseDown.Status, Is.EqualTo(HttpStatusCode.ServiceUnavailable), databaseDown.Body.ToString());
        Assert.That(databaseDown.Body.GetProperty("database").GetString(), Does.StartWith("failed"));
        Assert.That(await server.WaitForLogAsync("Not ready", TimeSpan.FromSeconds(5)), Is.True, "a failing check is logged: " + server.Log);
        await Task.Delay(s_probeReuse);
        Assert.That((await ReadAsync(server)).Status, Is.EqualTo(HttpStatusCode.OK), "ready again with the database back");

        var health = await server.Http.GetAsync("/healthz");
        Assert.That(health.StatusCode, Is.EqualTo(HttpStatusCode.OK), "live, though not ready");
    }

    [Test]
    public async Task JsonLogs_EveryLineParses_TheSessionsLinesCarryTheStreamId()
    {
        await using var server = await ServerProcess.StartAsync(["--MediaServer:Logging:Json=true", "--Logging:LogLevel:MediaServer=Debug"]);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        const string key = "json-log-stream";
        await using (var publisher = await SyntheticRtmpPublisher.StartAsync(server.RtmpPort, "live", key, ChunkFraming.Fmt0WithContinuations, timeout.Token))
        {
            await publisher.UnpublishAsync(timeout.Token);
        }

        Assert.That(await server.WaitForLogAsync("stopped publishing stream", TimeSpan.FromSeconds(20)), Is.True, server.Log);
        var lines = server.Log.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var entries = new List<JsonElement>();
        foreach (var line in lines)
        {
            using var document = JsonDocument.Parse(line); // throws, failing the test, on a line that is not JSON
            entries.Add(document.RootElement.Clone());
        }

        var sessionLines = entries.Where(e => e.GetProperty("Message").GetString() is { } m && m.Contains(" stream " + key, StringComparison.Ordinal)).ToList();
        Assert.That(sessionLines, Has.Count.GreaterThanOrEqualTo(2), "publishing and stopped lines: " + server.Log);
        foreach (var entry in sessionLines)
        {
            var scopes = entry.GetProperty("Scopes").EnumerateArray()
                .Where(s => s.ValueKind == JsonValueKind.Object && s.TryGetProperty("StreamId", out _))
                .Select(s => s.GetProperty("StreamId").GetString());
            Assert.That(scopes, Does.Contain(key), entry.ToString());
        }

        Assert.That(server.Log, Does.Not.Contain("\"StreamKey\""), "the key is never a field of its own");
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> ReadAsync(ServerProcess server)
    {
        using var response = await server.Http.GetAsync("/readyz");
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, document.RootElement.Clone());
    }
}
