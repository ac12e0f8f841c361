namespace MediaServer.Host.Health;

/// <summary><c>GET /healthz</c> (the process runs) and <c>GET /readyz</c> (it can take streams: 200, else 503).</summary>
public static class HealthEndpoints
{
    public static void Map(WebApplication app)
    {
        app.MapGet("/healthz", () => Results.Text("ok"));
        app.MapGet("/readyz", async (ReadinessProbe probe, CancellationToken cancellationToken) =>
        {
            var readiness = await probe.CheckAsync(cancellationToken).ConfigureAwait(false);
            return Results.Json(
                new { status = readiness.Ready ? "ready" : "not ready", listeners = readiness.Listeners, database = readiness.Database, disk = readiness.Disk },
                statusCode: readiness.Ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        });
    }
}
