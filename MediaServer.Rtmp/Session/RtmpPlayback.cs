using System.Buffers;
using MediaServer.Core.Flv;
using MediaServer.Core.Media;
using MediaServer.Core.Streams;
using MediaServer.Rtmp.Messages;
using Microsoft.Extensions.Logging;

namespace MediaServer.Rtmp.Session;

/// <summary>
/// The playing side of one RTMP connection: a loop that reads the player's <see cref="Subscription"/> (GOP replay
/// first) and sends each frame as an FLV tag body, with timestamps relative to the first frame this player got;
/// at the stream's end StreamEOF and <c>NetStream.Play.UnpublishNotify</c>, then the connection closes.
/// </summary>
internal sealed class RtmpPlayback
{
    private readonly Subscription _subscription;
    private readonly RtmpOutput _output;
    private readonly uint _messageStreamId;
    private readonly Action<string> _requestClose;
    private readonly ILogger _logger;
    private readonly string? _remoteAddress;
    private readonly CancellationTokenSource _cts;
    private readonly TimeSpan _writeTimeout;
    private readonly Action? _onWriteTimeout;
    private ITimer? _watchdog;
    private long _sendingSince; // Stopwatch timestamp while a send is pending, else 0
    private Task? _loop;

    /// <param name="requestClose">Asks the session to close the connection, with the reason.</param>
    /// <param name="writeTimeout">A send blocked this long (the player stopped reading) calls <paramref name="onWriteTimeout"/>.</param>
    public RtmpPlayback(Subscription subscription, RtmpOutput output, uint messageStreamId, Action<string> requestClose, ILogger logger, string? remoteAddress, CancellationToken sessionToken, TimeSpan? writeTimeout = null, Action? onWriteTimeout = null)
    {
        _writeTimeout = writeTimeout ?? Timeout.InfiniteTimeSpan;
        _onWriteTimeout = onWriteTimeout;
        _subscription = subscription;
        _output = output;
        _messageStreamId = messageStreamId;
        _requestClose = requestClose;
        _logger = logger;
        _remoteAddress = remoteAddress;
        _cts = CancellationTokenSource.CreateLinkedTokenSource(sessionToken);
    }

    public string StreamId => _subscription.Stream.Id;

    /// <summary>Starts the send loop (after the play statuses went out).</summary>
    public void Start()
    {
        if (_writeTimeout > TimeSpan.Zero && _writeTimeout != Timeout.InfiniteTimeSpan)
        {
            // One timer per player checks the pending send; the send path only stores a timestamp (no per-frame timer).
            var period = TimeSpan.FromMilliseconds(Math.Clamp(_writeTimeout.TotalMilliseconds / 4, 50, 1000));
            _watchdog = TimeProvider.System.CreateTimer(static state => ((RtmpPlayback)state!).CheckWrite(), this, period, period);
        }

        _loop = RunAsync(_cts.Token);
    }

    private void CheckWrite()
    {
        var since = Volatile.Read(ref _sendingSince);
        if (since != 0 && System.Diagnostics.Stopwatch.GetElapsedTime(since) >= _writeTimeout)
        {
            _watchdog?.Dispose();
            _onWriteTimeout?.Invoke();
            try
            {
                _cts.Cancel(); // the blocked flush ends
            }
            catch (ObjectDisposedException)
            {
                // Stopped meanwhile.
            }
        }
    }

    /// <summary>Stops the loop, waits for it and disposes the subscription (its queued frames are released).</summary>
    public async ValueTask StopAsync()
    {
        if (_watchdog is { } watchdog)
        {
            await watchdog.DisposeAsync().ConfigureAwait(false);
        }

        await _cts.CancelAsync().ConfigureAwait(false);
        if (_loop is { } loop)
        {
            await loop.ConfigureAwait(false);
        }

        _cts.Dispose();
        _subscription.Dispose();
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        // Tag bodies are built here, then chunked by the output; reused for every frame.
        var body = new ArrayBufferWriter<byte>(64 * 1024);
        long? baseTimestamp = null;
        try
        {
            while (await _subscription.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (_subscription.TryRead(out var frame))
                {
                    try
                    {
                        // Relative to the first frame this player got, so a late joiner starts near 0.
                        baseTimestamp ??= frame.Timestamp;
                        var relative = Math.Max(0, frame.Timestamp - baseTimestamp.Value);
                        body.ResetWrittenCount();
                        FlvMuxer.WriteTagBody(frame, body);
                        var (chunkStream, type) = frame.Kind switch
                        {
                            MediaKind.Video => (RtmpOutput.VideoChunkStream, RtmpMessageType.Video),
                            MediaKind.Audio => (RtmpOutput.AudioChunkStream, RtmpMessageType.Audio),
                            _ => (RtmpOutput.StreamChunkStream, RtmpMessageType.DataAmf0),
                        };
                        Volatile.Write(ref _sendingSince, System.Diagnostics.Stopwatch.GetTimestamp());
                        await _output.SendAsync(chunkStream, type, unchecked((uint)relative), _messageStreamId, body.WrittenMemory, cancellationToken).ConfigureAwait(false);
                        Volatile.Write(ref _sendingSince, 0);
                    }
                    finally
                    {
                        frame.Payload.Release();
                    }
                }
            }

            // The stream ended: tell the player and close.
            await _output.SendUserControlAsync(UserControlEvent.StreamEof(_messageStreamId), cancellationToken).ConfigureAwait(false);
            var info = RtmpCommand.StatusInfo("status", "NetStream.Play.UnpublishNotify", "The stream ended.");
            await _output.SendCommandAsync(RtmpOutput.StreamChunkStream, _messageStreamId, RtmpCommand.Encode("onStatus", 0, null, info), cancellationToken).ConfigureAwait(false);
            _requestClose("stream ended");
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
        catch (IOException)
        {
            // The player went away; the read loop sees the close too.
            _requestClose("connection lost");
        }
        catch (Exception ex)
        {
            _logger.LogWarning(ex, "RTMP {Remote}: playback of {StreamId} failed", _remoteAddress, StreamId);
            _requestClose("playback failed");
        }
    }
}
