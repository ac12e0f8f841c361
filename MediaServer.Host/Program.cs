using System.Net;
using MediaServer.Core.Streams;
using MediaServer.Hls;
using MediaServer.Host.Api;
using MediaServer.Host.Auth;
using MediaServer.Host.Cli;
using MediaServer.Host.Configuration;
using MediaServer.Host.Connections;
using MediaServer.Host.Data;
using MediaServer.Host.Egress;
using MediaServer.Host.Health;
using MediaServer.Host.Metrics;
using MediaServer.Host.Recording;
using MediaServer.Host.Restream;
using MediaServer.Rtmp.Session;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Options;

var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    // appsettings.json ships beside the binary, so `dotnet run` from any folder finds it.
    ContentRootPath = AppContext.BaseDirectory,
});

if (Cli.IsVerb(args))
{
    return await Cli.RunAsync(args, builder.Configuration, Console.Out, Console.Error);
}

builder.Logging.ClearProviders();
// Scopes on: every line of an RTMP session carries its StreamId once publish/play resolved it (StreamLogScope).
if (builder.Configuration.GetValue<bool>("MediaServer:Logging:Json"))
{
    builder.Logging.AddJsonConsole(o =>
    {
        o.IncludeScopes = true;
        o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
        o.UseUtcTimestamp = true;
    });
}
else
{
    builder.Logging.AddSimpleConsole(o =>
    {
        o.SingleLine = true;
        o.IncludeScopes = true;
        o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fff ";
        o.UseUtcTimestamp = true;
    });
}

// One bind per options type, validated when the host starts (a bad value stops it with the key named).
var section = builder.Configuration.GetSection(MediaServerOptions.SectionName);
builder.Services.AddOptions<MediaServerOptions>().Bind(section).ValidateOnStart();
builder.Services.AddOptions<AuthOptions>().Bind(section.GetSection("Auth")).ValidateOnStart();
builder.Services.AddOptions<WrongKeyOptions>().Bind(section.GetSection("Auth:WrongKeys"))
    .Validate(static o => o.FreeAttempts >= 0 && o.MaxAddresses > 0, "MediaServer:Auth:WrongKeys: FreeAttempts must not be negative and MaxAddresses must be positive.")
    .Validate(static o => o.InitialDelay >= TimeSpan.Zero && o.MaxDelay >= o.InitialDelay && o.MaxDelay <= TimeSpan.FromMinutes(1), "MediaServer:Auth:WrongKeys: need 0 <= InitialDelay <= MaxDelay <= 1 minute.")
    .Validate(static o => o.ForgetAfter > TimeSpan.Zero, "MediaServer:Auth:WrongKeys:ForgetAfter must be positive.")
    .ValidateOnStart();
builder.Services.AddOptions<RtmpServerOptions>().Bind(section.GetSection("Rtmp"))
    .Validate(static o => o.HandshakeTimeout > TimeSpan.Zero, "MediaServer:Rtmp:HandshakeTimeout must be positive.")
    .Validate(static o => o.PublisherIdleTimeout > TimeSpan.Zero, "MediaServer:Rtmp:PublisherIdleTimeout must be positive.")
    .Validate(static o => o.OutgoingChunkSize is >= 128 and <= 0x7FFFFFFF, "MediaServer:Rtmp:OutgoingChunkSize must be at least 128.")
    .Validate(static o => o.MaxIncomingMessageSize is > 0 and <= 16 * 1024 * 1024, "MediaServer:Rtmp:MaxIncomingMessageSize must be between 1 and 16777216 (the 24-bit length field).")
    .Validate(static o => o.MaxConnections > 0 && o.MaxConnectionsPerAddress > 0 && o.MaxPlayersPerStream > 0 && o.MaxPlayersPerAddress > 0, "MediaServer:Rtmp: MaxConnections, MaxConnectionsPerAddress, MaxPlayersPerStream and MaxPlayersPerAddress must be positive.")
    .Validate(static o => o.PlayerWriteTimeout > TimeSpan.Zero, "MediaServer:Rtmp:PlayerWriteTimeout must be positive.")
    .Validate(static o => o.PreSessionMaxChunkStreams is >= 2 and <= 1024 && o.PreSessionMaxPendingBytes >= 4096, "MediaServer:Rtmp: PreSessionMaxChunkStreams must be 2..1024 and PreSessionMaxPendingBytes at least 4096.")
    .ValidateOnStart();
builder.Services.AddOptions<StreamHubOptions>().Bind(section.GetSection("Streams"))
    .Validate(static o => o.ReconnectWindow >= TimeSpan.Zero, "MediaServer:Streams:ReconnectWindow must not be negative.")
    .Validate(static o => o.SubscriberQueueCapacity > 0 && o.MaxGopCacheFrames > 0 && o.MaxGopCacheBytes > 0, "MediaServer:Streams: queue and cache limits must be positive.")
    .ValidateOnStart();
builder.Services.AddOptions<RecordingOptions>().Bind(section.GetSection(RecordingOptions.SectionName))
    .Validate(static o => o.MinFreeBytes >= 0, "MediaServer:Recording:MinFreeBytes must not be negative (0 turns the floor off).")
    .Validate(static o => o.RetentionSweepInterval >= TimeSpan.FromSeconds(1), "MediaServer:Recording:RetentionSweepInterval must be at least one second.")
    .ValidateOnStart();

builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton(static sp => new Database(sp.GetRequiredService<IOptions<MediaServerOptions>>().Value.DataDirectory));
builder.Services.AddSingleton<ApiKeyStore>();
builder.Services.AddSingleton<LivestreamStore>();
builder.Services.AddSingleton<AccessTokenValidator>();
builder.Services.AddSingleton(static sp => new StreamHub(
    sp.GetRequiredService<IOptions<StreamHubOptions>>().Value,
    sp.GetRequiredService<ILoggerFactory>(),
    sp.GetRequiredService<TimeProvider>()));
builder.Services.AddSingleton(static sp => new WrongKeyThrottle(sp.GetRequiredService<IOptions<WrongKeyOptions>>().Value, sp.GetRequiredService<TimeProvider>()));
builder.Services.AddSingleton<IStreamResolver, LivestreamResolver>();
builder.Services.AddSingleton<MediaServer.Hls.Serving.IPlaybackAuthorizer, LivestreamPlaybackAuthorizer>();
builder.Services.AddSingleton(static sp => sp.GetRequiredService<IOptions<RtmpServerOptions>>().Value);
builder.Services.AddSingleton<RtmpConnectionLimits>();
builder.Services.AddSingleton(static sp => OutboundAddressPolicy.ForRestream(sp.GetRequiredService<IOptions<MediaServerOptions>>()));
builder.Services.AddSingleton<RestreamManager>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<RestreamManager>());
builder.Services.AddSingleton<ReadinessProbe>();
builder.Services.AddSingleton<RecordingStore>();
builder.Services.AddSingleton<IFreeSpaceProvider, DriveFreeSpaceProvider>();
builder.Services.AddSingleton<LatestRecordingCache>();
builder.Services.AddSingleton<RecordingManager>();
builder.Services.AddHostedService<RecordingRetention>();
// Registered before the HLS service, so it stops after it: the HLS streams end, then recordings finish.
builder.Services.AddHostedService(sp => sp.GetRequiredService<RecordingManager>());
builder.Services.AddMediaServerHls(section.GetSection("Hls"));
builder.Services.AddOpenApi();
builder.Services.AddProblemDetails();
// A body over a request size limit (the API's, chunked or not) reads as Kestrel's 413, not as a server error.
builder.Services.Configure<ExceptionHandlerOptions>(static o => o.StatusCodeSelector = static ex => ex is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError);

// Kestrel's buffers in 64 KiB blocks: a video frame arrives in one receive call, not one per 4 KiB.
builder.Services.AddSingleton<IMemoryPoolFactory<byte>, ReceiveBlockPoolFactory>();
builder.WebHost.UseSockets();
builder.Services.AddOptions<SocketTransportOptions>().Configure<IOptions<MediaServerOptions>>(
    static (sockets, options) => sockets.UnsafePreferInlineScheduling = options.Value.Network.InlineIo);

builder.WebHost.ConfigureKestrel(static kestrel =>
{
    var options = kestrel.ApplicationServices.GetRequiredService<IOptions<MediaServerOptions>>().Value;
    var address = options.BindAddress is "*" or "" ? null : IPAddress.Parse(options.BindAddress);
    void Listen(int port, Action<Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions> configure)
    {
        if (address is null)
        {
            kestrel.ListenAnyIP(port, configure);
        }
        else
        {
            kestrel.Listen(address, port, configure);
        }
    }

    Listen(options.Rtmp.Port, listen => listen.UseConnectionHandler<RtmpConnectionHandler>());
    if (options.Rtmps.Port > 0)
    {
        var certificate = Certificates.Load(options.Rtmps);
        Listen(options.Rtmps.Port, listen =>
        {
            listen.UseHttps(certificate);
            listen.UseConnectionHandler<RtmpConnectionHandler>();
        });
    }

    Listen(options.Http.Port, _ => { });
});

var app = builder.Build();
var options = app.Services.GetRequiredService<IOptions<MediaServerOptions>>().Value;
await app.Services.GetRequiredService<Database>().MigrateAsync();
if (options.Network.InlineIo)
{
    // Read when the socket engine starts, at Kestrel's first bind (after this). With 20 publishers this took the
    // server's CPU per stream-second from 3.4 to 2.7 ms (load verb, same run); see NetworkOptions.InlineIo.
    Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
    Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT", options.Network.EffectiveIoThreads.ToString(System.Globalization.CultureInfo.InvariantCulture));
}

app.UseExceptionHandler();
if (options.Network.InlineIo)
{
    // Requests start on a socket engine thread (NetworkOptions.InlineIo). HLS is served from memory and stays there;
    // the API and the recordings touch the database and the disk, so they move to the thread pool first.
    app.Use(async (context, next) =>
    {
        if (!context.Request.Path.StartsWithSegments("/live", StringComparison.Ordinal))
        {
            await Task.Yield();
        }

        await next(context);
    });
}

app.UseStatusCodePages();
HealthEndpoints.Map(app);
app.MapOpenApi("/openapi/{documentName}.json");
app.MapLivestreamsApi();
app.MapRecordingsApi();
app.MapHls();
MetricsEndpoint.Map(app, options.Metrics);

// Graceful shutdown (SIGTERM, Ctrl+C): publishers are disconnected and every playlist gets EXT-X-ENDLIST.
app.Lifetime.ApplicationStopping.Register(() => app.Services.GetRequiredService<StreamHub>().Shutdown());

app.Lifetime.ApplicationStarted.Register(() => app.Logger.LogInformation(
    "MediaServer listening: RTMP on port {RtmpPort}, RTMPS on port {RtmpsPort}, HTTP on port {HttpPort}, data in {DataDirectory}, public base URL {PublicBaseUrl}",
    options.Rtmp.Port, options.Rtmps.Port > 0 ? options.Rtmps.Port : "(off)", options.Http.Port, Path.GetFullPath(options.DataDirectory), options.GetPublicBaseUri()));

await app.RunAsync();
return 0;
