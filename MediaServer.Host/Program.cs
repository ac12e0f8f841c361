using System.Net;
using MediaServer.Core.Streams;
using MediaServer.Hls;
using MediaServer.Host.Api;
using MediaServer.Host.Auth;
using MediaServer.Host.Cli;
using MediaServer.Host.Configuration;
using MediaServer.Host.Connections;
using MediaServer.Host.Data;
using MediaServer.Host.Recording;
using MediaServer.Host.Restream;
using MediaServer.Rtmp.Session;
using Microsoft.AspNetCore.Connections;
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
builder.Logging.AddSimpleConsole(o =>
{
    o.SingleLine = true;
    o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fff ";
    o.UseUtcTimestamp = true;
});

var section = builder.Configuration.GetSection(MediaServerOptions.SectionName);
var options = section.Get<MediaServerOptions>() ?? new MediaServerOptions();
builder.Services.Configure<MediaServerOptions>(section);
builder.Services.Configure<AuthOptions>(builder.Configuration.GetSection("MediaServer:Auth"));

var database = new Database(options.DataDirectory);
await database.MigrateAsync();

builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton(database);
builder.Services.AddSingleton<ApiKeyStore>();
builder.Services.AddSingleton<LivestreamStore>();
builder.Services.AddSingleton<AccessTokenValidator>();
builder.Services.AddSingleton(sp => new StreamHub(
    new StreamHubOptions { ReconnectWindow = TimeSpan.FromSeconds(options.Streams.ReconnectWindowSeconds) },
    sp.GetRequiredService<ILoggerFactory>(),
    sp.GetRequiredService<TimeProvider>()));
builder.Services.AddSingleton<IStreamResolver, LivestreamResolver>();
builder.Services.AddSingleton<MediaServer.Hls.Serving.IPlaybackAuthorizer, LivestreamPlaybackAuthorizer>();
builder.Services.AddSingleton(new RtmpServerOptions
{
    HandshakeTimeout = TimeSpan.FromSeconds(options.Rtmp.HandshakeTimeoutSeconds),
});
builder.Services.AddSingleton<RestreamManager>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<RestreamManager>());
builder.Services.AddSingleton<RecordingStore>();
builder.Services.AddSingleton<RecordingManager>();
// Registered before the HLS service, so it stops after it: the HLS streams end, then recordings finish.
builder.Services.AddHostedService(sp => sp.GetRequiredService<RecordingManager>());
builder.Services.AddMediaServerHls(builder.Configuration.GetSection("MediaServer:Hls"));
builder.Services.AddOpenApi();
builder.Services.AddProblemDetails();

// Kestrel's buffers in 64 KiB blocks: a video frame arrives in one receive call, not one per 4 KiB.
builder.Services.AddSingleton<IMemoryPoolFactory<byte>, ReceiveBlockPoolFactory>();
if (options.Network.InlineIo)
{
    // Read before the first socket exists (Kestrel binds when the app starts). With 20 publishers this took the
    // server's CPU per stream-second from 3.4 to 2.7 ms (load verb, same run); see NetworkOptions.InlineIo.
    Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
    Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT", options.Network.EffectiveIoThreads.ToString(System.Globalization.CultureInfo.InvariantCulture));
}

builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = options.Network.InlineIo);

builder.WebHost.ConfigureKestrel(kestrel =>
{
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
app.MapGet("/healthz", () => Results.Text("ok"));
app.MapOpenApi("/openapi/{documentName}.json");
app.MapLivestreamsApi();
app.MapRecordingsApi();
app.MapHls();

// Graceful shutdown (SIGTERM, Ctrl+C): publishers are disconnected and every playlist gets EXT-X-ENDLIST.
app.Lifetime.ApplicationStopping.Register(() => app.Services.GetRequiredService<StreamHub>().Shutdown());

var startup = app.Services.GetRequiredService<IOptions<MediaServerOptions>>().Value;
app.Lifetime.ApplicationStarted.Register(() => app.Logger.LogInformation(
    "MediaServer listening: RTMP on port {RtmpPort}, RTMPS on port {RtmpsPort}, HTTP on port {HttpPort}, data in {DataDirectory}, public base URL {PublicBaseUrl}",
    startup.Rtmp.Port, startup.Rtmps.Port > 0 ? startup.Rtmps.Port : "(off)", startup.Http.Port, Path.GetFullPath(startup.DataDirectory), startup.GetPublicBaseUri()));

await app.RunAsync();
return 0;
