using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using MediaServer.Core.Streams;
using MediaServer.Rtmp.Client;
using MediaServer.Rtmp.Session;
using Microsoft.Extensions.Logging;

namespace MediaServer.Tests.Rtmp.Infrastructure;

internal sealed record TestDuplexPipe(PipeReader Input, PipeWriter Output) : IDuplexPipe;

/// <summary>Records log entries so tests can assert "one warning with the reason".</summary>
internal sealed class ListLogger : ILogger
{
    public ConcurrentQueue<(LogLevel Level, string Message)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Entries.Enqueue((logLevel, formatter(state, exception) + (exception is null ? string.Empty : " " + exception.GetType().Name + ": " + exception.Message + exception.StackTrace)));

    public IReadOnlyList<string> Warnings => [.. Entries.Where(e => e.Level >= LogLevel.Warning).Select(e => e.Message)];
}

/// <summary>A resolver with scripted answers that records the requests it saw.</summary>
internal sealed class ScriptedResolver(Func<StreamRequest, StreamResolution> publish, Func<StreamRequest, StreamResolution>? play = null) : IStreamResolver
{
    public ConcurrentQueue<StreamRequest> Requests { get; } = new();

    public ValueTask<StreamResolution> ResolvePublishAsync(StreamRequest request, CancellationToken cancellationToken)
    {
        Requests.Enqueue(request);
        return ValueTask.FromResult(publish(request));
    }

    public ValueTask<StreamResolution> ResolvePlayAsync(StreamRequest request, CancellationToken cancellationToken)
    {
        Requests.Enqueue(request);
        return ValueTask.FromResult((play ?? publish)(request));
    }
}

/// <summary>An <see cref="RtmpServerSession"/> over an in-memory pipe pair, with a client on the other end.</summary>
internal sealed class SessionHarness : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly CancellationTokenSource _cts = new();

    private SessionHarness(StreamHub hub, IStreamResolver resolver, RtmpServerOptions options)
    {
        var toServer = new Pipe(new PipeOptions(useSynchronizationContext: false));
        var toClient = new Pipe(new PipeOptions(useSynchronizationContext: false));
        Hub = hub;
        Session = new RtmpServerSession(new TestDuplexPipe(toServer.Reader, toClient.Writer), hub, resolver, options, Logger, "127.0.0.1:5000");
        ClientInput = toClient.Reader;
        Client = new RtmpClientConnection(new TestDuplexPipe(toClient.Reader, toServer.Writer));
        Run = Task.Run(() => Session.RunAsync(_cts.Token));
    }

    public StreamHub Hub { get; }

    public ListLogger Logger { get; } = new();

    public RtmpServerSession Session { get; }

    public RtmpClientConnection Client { get; }

    /// <summary>The bytes the server sends, as <see cref="Client"/> reads them: for tests that read raw (a handshake).</summary>
    public PipeReader ClientInput { get; }

    /// <summary>Reads exactly <paramref name="count"/> raw bytes the server sent.</summary>
    public async Task<byte[]> ReadRawAsync(int count, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await ClientInput.ReadAsync(cancellationToken);
            if (result.Buffer.Length >= count)
            {
                var bytes = result.Buffer.Slice(0, count).ToArray();
                ClientInput.AdvanceTo(result.Buffer.GetPosition(count));
                return bytes;
            }

            if (result.IsCompleted)
            {
                throw new EndOfStreamException($"the server sent {result.Buffer.Length} of {count} bytes, then closed");
            }

            ClientInput.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    public Task Run { get; }

    public CancellationToken Token => _cts.Token;

    public static SessionHarness Start(IStreamResolver? resolver = null, Action<RtmpServerOptions>? configure = null, StreamHub? hub = null)
    {
        var options = new RtmpServerOptions();
        configure?.Invoke(options);
        return new SessionHarness(hub ?? new StreamHub(), resolver ?? new OpenStreamResolver(), options);
    }

    /// <summary>Handshake, connect to <paramref name="app"/>, createStream.</summary>
    public async Task<uint> ConnectAndCreateStreamAsync(string app = "live")
    {
        using var timeout = new CancellationTokenSource(Timeout);
        await Client.HandshakeAsync(timeout.Token);
        await Client.ConnectAsync(app, null, timeout.Token);
        return await Client.CreateStreamAsync(timeout.Token);
    }

    /// <summary>Waits for the session to end (it must, within the timeout).</summary>
    public async Task WaitForEndAsync() => await Run.WaitAsync(Timeout);

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        await Client.DisposeAsync();
        try
        {
            await Run.WaitAsync(Timeout);
        }
        finally
        {
            _cts.Dispose();
        }
    }
}
