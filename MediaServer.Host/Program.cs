using System.Net;
using MediaServer.Core.Streams;
using MediaServer.Hls;
using MediaServer.Host.Configuration;
using MediaServer.Host.Connections;
using MediaServer.Rtmp.Session;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;

var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    // appsettings.json ships beside the binary, so `dotnet run` from any folder finds it.
    ContentRootPath = AppContext.BaseDirectory,
});

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

Directory.CreateDirectory(options.DataDirectory);

builder.Services.AddSingleton(sp => new StreamHub(new StreamHubOptions(), sp.GetRequiredService<ILoggerFactory>()));
builder.Services.AddSingleton<IStreamResolver, OpenStreamResolver>();
builder.Services.AddSingleton(new RtmpServerOptions
{
    HandshakeTimeout = TimeSpan.FromSeconds(options.Rtmp.HandshakeTimeoutSeconds),
});
builder.Services.AddMediaServerHls(builder.Configuration.GetSection("MediaServer:Hls"));

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
    Listen(options.Http.Port, _ => { });
});

var app = builder.Build();

app.MapGet("/healthz", () => Results.Text("ok"));
app.MapHls();

var startup = app.Services.GetRequiredService<IOptions<MediaServerOptions>>().Value;
app.Lifetime.ApplicationStarted.Register(() => app.Logger.LogInformation(
    "MediaServer listening: RTMP on port {RtmpPort}, HTTP on port {HttpPort}, data in {DataDirectory}, public base URL {PublicBaseUrl}",
    startup.Rtmp.Port, startup.Http.Port, Path.GetFullPath(startup.DataDirectory), startup.GetPublicBaseUri()));

await app.RunAsync();
