using System.Net.Sockets;
using System.Security.Authentication;
using MediaServer.Core.Streams;
using MediaServer.Host.Configuration;
using MediaServer.Host.Data;
using MediaServer.Host.Egress;
using MediaServer.Rtmp;
using MediaServer.Rtmp.Client;

namespace MediaServer.Host.Restream;

/// <summary>
/// Pushes one live stream to one restream target for as long as the stream lives: connect, publish, forward
/// frames; on any failure reconnect with exponential backoff and start again at a keyframe.
/// </summary>
/// <remarks>
/// Each connection gets its own <see cref="LiveStream.Subscribe"/> with GOP replay, so it starts with the
/// metadata and decoder configurations and then a keyframe. The subscription's bounded queue is what keeps a
/// slow or dead target from slowing the ingest or the other targets: the hub drops to the next keyframe for
/// it. A write blocked longer than the write timeout (a target that stopped reading) drops the connection.
/// Failures are logged once per distinct error, not once per retry.
/// </remarks>
internal sealed class RestreamTargetWorker : IAsyncDisposable
{
    private static readonly TimeSpan UnpublishTimeout = TimeSpan.FromSeconds(2);

    // A publish that lasted this long resets the backoff and the log aggregation; a shorter one (a target that
    // accepts and then drops us) keeps backing off, so a flapping target neither hammers nor floods the log.
    private static readonly TimeSpan StableAfter = TimeSpan.FromSeconds(30);

    private readonly LiveStream _stream;
    private readonly RestreamOptions _options;
    private readonly OutboundAddressPolicy _addresses;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _cts = new();
    private readonly Lock _lock = new();
    private Task _run = Task.CompletedTask;

    // Status, under _lock.
    private RestreamState _state = RestreamState.Connecting;
    private string? _lastError;
    private DateTimeOffset? _lastErrorAt;
    private int _reconnects;
    private DateTimeOffset? _liveSince;
    private long _droppedBefore;
    private Subscription? _subscription;

    // Log aggregation (worker thread only).
    private string? _lastLoggedError;
    private int _failuresSinceLive;
    private bool _flapping;

    public RestreamTargetWorker(LiveStream stream, RestreamTarget target, RestreamOptions options, OutboundAddressPolicy addresses, ILogger logger, TimeProvider time)
    {
        _stream = stream;
        Target = target;
        _options = options;
        _addresses = addresses;
        _logger = logger;
        _time = time;
    }

    public RestreamTarget Target { get; }

    /// <summary>The live stream this worker forwards (a restarted stream is a new one).</summary>
    public LiveStream Stream => _stream;

    public RestreamTargetStatus Status
    {
        get
        {
            lock (_lock)
            {
                var dropped = _droppedBefore + (_subscription?.DroppedFrames ?? 0);
                return new RestreamTargetStatus(Target.Url, RestreamTargetStatus.Name(_state), _lastError, _lastErrorAt, _reconnects, _liveSince, dropped);
            }
        }
    }

    public void Start() => _run = Task.Run(() => RunAsync(_cts.Token));

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        RtmpPublishTarget target;
        try
        {
            target = RtmpPublishTarget.Parse(Target.Url, Target.StreamKey);
        }
        catch (FormatException ex)
        {
            SetError($"Invalid target URL: {ex.Message}");
            return;
        }

        if (_options.AllowedHosts.Count > 0 && !_options.AllowedHosts.Contains(target.Host, StringComparer.OrdinalIgnoreCase))
        {
            SetError($"Target host '{target.Host}' is not in MediaServer:Restream:AllowedHosts; not contacted.");
            return;
        }

        var timeout = TimeSpan.FromSeconds(Math.Max(1, _options.ConnectTimeoutSeconds));
        var clientOptions = new RtmpClientOptions
        {
            ConnectTimeout = timeout,
            HandshakeTimeout = timeout,
            CommandTimeout = timeout,
            AllowUntrustedCertificates = _options.AllowUntrustedCertificates,
            ResolveEndpoint = _addresses.ResolveAsync, // resolved once, checked, connected to by address
        };

        var attempt = 0;
        while (!cancellationToken.IsCancellationRequested && !_stream.IsEnded)
        {
            if (attempt > 0)
            {
                lock (_lock)
                {
                    _reconnects++;
                    _state = RestreamState.Connecting;
                }
            }

            RtmpPublishClient? client = null;
            var live = false;
            var ended = false;
            long liveAt = 0;
            try
            {
                client = await RtmpPublishClient.ConnectAsync(target, clientOptions, cancellationToken).ConfigureAwait(false);
                using var subscription = _stream.Subscribe(replayGop: true);
                SetLive(subscription, target);
                live = true;
                liveAt = _time.GetTimestamp();
                ended = await ForwardAsync(client, subscription, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                ended = true;
            }
            catch (Exception ex)
            {
                if (live && _time.GetElapsedTime(liveAt) >= StableAfter)
                {
                    attempt = 0;
                    _lastLoggedError = null;
                    _flapping = false;
                }
                else if (live)
                {
                    _flapping = true;
                }

                SetError(Describe(ex, target));
            }
            finally
            {
                lock (_lock)
                {
                    if (_subscription is { } s)
                    {
                        _droppedBefore += s.DroppedFrames;
                        _subscription = null;
                    }
                }

                if (client is not null)
                {
                    await CloseQuietlyAsync(client, unpublish: live && ended).ConfigureAwait(false);
                }
            }

            if (ended)
            {
                break;
            }

            try
            {
                await Task.Delay(Backoff(attempt++), _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        _logger.LogInformation("Restream {StreamId} → {Target}: stopped", _stream.Id, target);
    }

    /// <summary>Forwards frames until the stream ends (true) or the connection fails (throws).</summary>
    private async Task<bool> ForwardAsync(RtmpPublishClient client, Subscription subscription, CancellationToken cancellationToken)
    {
        var writeTimeout = TimeSpan.FromSeconds(Math.Max(1, _options.WriteTimeoutSeconds));
        using var write = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        while (await subscription.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (subscription.TryRead(out var frame))
            {
                try
                {
                    if (client.Completion.IsCompleted)
                    {
                        await client.Completion.ConfigureAwait(false); // throws the server's reason
                        throw new RtmpProtocolException(RtmpProtocolError.ConnectionClosed, "The server closed the connection.");
                    }

                    write.CancelAfter(writeTimeout);
                    await client.WriteAsync(frame, write.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new TimeoutException($"The target stopped reading: a write was blocked for {writeTimeout.TotalSeconds:0} s.");
                }
                finally
                {
                    frame.Payload.Release();
                }
            }

            write.CancelAfter(Timeout.InfiniteTimeSpan);
        }

        return true;
    }

    /// <summary>
    /// Unpublishes (when the stream ended) and closes. Never throws: a broken connection can fail in its disposal
    /// too (a TLS close_notify or a flush into a reset socket), and that must not end the retry loop.
    /// </summary>
    private async Task CloseQuietlyAsync(RtmpPublishClient client, bool unpublish)
    {
        if (unpublish)
        {
            using var timeout = new CancellationTokenSource(UnpublishTimeout);
            try
            {
                await client.UnpublishAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException or ObjectDisposedException or RtmpProtocolException or SocketException)
            {
                // The target is gone already; closing is all that is left.
            }
        }

        try
        {
            await client.DisposeAsync().ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Anything a dead connection throws while closing is only logged: the worker must retry.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _logger.LogDebug("Restream {StreamId} → {Url}: closing the connection failed: {Error}", _stream.Id, SafeUrl(Target.Url), ex.Message);
        }
    }

    private TimeSpan Backoff(int attempt)
    {
        var max = Math.Max(1, _options.MaxBackoffSeconds);
        var seconds = Math.Min(max, Math.Pow(2, Math.Min(attempt, 16)));
        return TimeSpan.FromSeconds(seconds * (0.8 + (0.4 * Random.Shared.NextDouble())));
    }

    private void SetLive(Subscription subscription, RtmpPublishTarget target)
    {
        lock (_lock)
        {
            _state = RestreamState.Live;
            _liveSince = _time.GetUtcNow();
            _subscription = subscription;
        }

        if (_flapping)
        {
            _logger.LogDebug("Restream {StreamId} → {Target}: live again (it keeps dropping the connection)", _stream.Id, target);
        }
        else if (_failuresSinceLive > 0)
        {
            _logger.LogInformation("Restream {StreamId} → {Target}: live again after {Failures} failed attempt(s)", _stream.Id, target, _failuresSinceLive);
        }
        else
        {
            _logger.LogInformation("Restream {StreamId} → {Target}: live", _stream.Id, target);
        }

        _failuresSinceLive = 0;
    }

    private void SetError(string message)
    {
        lock (_lock)
        {
            _state = RestreamState.Error;
            _lastError = message;
            _lastErrorAt = _time.GetUtcNow();
            _liveSince = null;
        }

        _failuresSinceLive++;
        if (!string.Equals(message, _lastLoggedError, StringComparison.Ordinal))
        {
            _lastLoggedError = message;
            _logger.LogWarning("Restream {StreamId} → {Url}: {Error} (retrying with backoff; the same error again is not logged)", _stream.Id, SafeUrl(Target.Url), message);
        }
    }

    private static string SafeUrl(string url) => Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.GetLeftPart(UriPartial.Path) : "(invalid URL)";

    /// <summary>
    /// The status text of a failure: what happened (refused, timed out, not RTMP, address not allowed), never the
    /// bytes the peer sent, so a target cannot be used to scan ports or read banners. Only an RTMP server's own
    /// refusal code is shown (a wrong stream key must be told apart), reduced to printable ASCII.
    /// </summary>
    internal static string Describe(Exception ex, RtmpPublishTarget target) => ex switch
    {
        OutboundAddressRefusedException refused => refused.Message,
        SocketException { SocketErrorCode: SocketError.ConnectionRefused } => $"Connection refused by {target.Host}:{target.Port}.",
        SocketException { SocketErrorCode: SocketError.TimedOut } => $"TCP connect to {target.Host}:{target.Port} timed out.",
        SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain } => $"Cannot resolve {target.Host}.",
        SocketException socket => $"Cannot connect to {target.Host}:{target.Port} ({socket.SocketErrorCode}).",
        AuthenticationException => $"TLS with {target.Host}:{target.Port} failed (certificate not accepted or not a TLS server).",
        IOException => $"Connection to {target.Host}:{target.Port} lost.",
        RtmpProtocolException { Reason: RtmpProtocolError.CommandTimeout or RtmpProtocolError.HandshakeTimeout } timeout => timeout.Message,
        RtmpProtocolException { Reason: RtmpProtocolError.Rejected } rejected => Printable(rejected.Message),
        RtmpProtocolException { Reason: RtmpProtocolError.ConnectionClosed } => $"{target.Host}:{target.Port} closed the connection.",
        RtmpProtocolException => $"{target.Host}:{target.Port} is not an RTMP server (or broke the protocol).",
        TimeoutException timeout => timeout.Message,
        _ => $"Connection to {target.Host}:{target.Port} failed ({ex.GetType().Name}).",
    };

    private static string Printable(string text)
    {
        const int MaxLength = 200;
        var chars = new char[Math.Min(text.Length, MaxLength)];
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = text[i] is >= ' ' and <= '~' ? text[i] : '?';
        }

        return new string(chars);
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync().ConfigureAwait(false);
        try
        {
            await _run.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _logger.LogWarning(ex, "Restream {StreamId}: worker failed", _stream.Id);
        }

        _cts.Dispose();
    }
}
