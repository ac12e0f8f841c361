using System.Buffers;
using MediaServer.Core.Amf;
using MediaServer.Core.Flv;
using MediaServer.Core.Media;
using MediaServer.Core.Streams;
using MediaServer.Rtmp.Messages;
using Microsoft.Extensions.Logging;

namespace MediaServer.Rtmp.Session;

public sealed partial class RtmpServerSession
{
    private const string FmsVersion = "FMS/3,5,7,7009";

    private ValueTask HandleCommandAsync(RtmpCommand command, uint messageStreamId)
    {
        switch (command.Name)
        {
            case "connect":
                return ConnectAsync(command);
            case "releaseStream":
                return SendResultAsync(command.TransactionId, null, AmfUndefined.Instance);
            case "FCPublish":
                return FcPublishAsync(command);
            case "createStream":
                return CreateStreamAsync(command);
            case "publish":
                return PublishAsync(command, messageStreamId);
            case "play":
                return PlayAsync(command, messageStreamId);
            case "FCUnpublish":
                StopPublishing(clean: true);
                return SendResultAsync(command.TransactionId, null, AmfUndefined.Instance);
            case "getStreamLength":
                // Live streams have no length; ffmpeg/ffplay ask before play.
                return SendResultAsync(command.TransactionId, null, 0d);
            case "deleteStream":
            case "closeStream":
                StopPublishing(clean: true);
                return StopPlayingAsync();
            case "_result":
            case "_error":
            case "onStatus":
            case "receiveAudio":
            case "receiveVideo":
            case "pause":
            case "seek":
            case "_checkbw":
                return ValueTask.CompletedTask;
            default:
                _logger.LogDebug("RTMP {Remote}: unknown command {Command}", _remoteAddress, command.Name);
                if (command.TransactionId > 0)
                {
                    var info = RtmpCommand.StatusInfo("error", "NetConnection.Call.Failed", $"Method '{command.Name}' not found.");
                    return _output.SendCommandAsync(RtmpOutput.CommandChunkStream, 0, RtmpCommand.Encode("_error", command.TransactionId, null, info), _token);
                }

                return ValueTask.CompletedTask;
        }
    }

    private async ValueTask ConnectAsync(RtmpCommand command)
    {
        var parameters = command.GetObjectArgument(-1);
        var app = parameters is not null && parameters.TryGetString("app", out var a) ? a : string.Empty;
        (_app, _appQuery) = SplitQuery(app.Trim('/'));
        _connected = true;

        await _output.SendControlAsync(RtmpMessageType.WindowAcknowledgementSize, ProtocolControl.WindowAcknowledgementSize(_options.WindowAckSize), _token).ConfigureAwait(false);
        _lastWindowSent = _options.WindowAckSize;
        await _output.SendControlAsync(RtmpMessageType.SetPeerBandwidth, ProtocolControl.SetPeerBandwidth(_options.PeerBandwidth, PeerBandwidthLimitType.Dynamic), _token).ConfigureAwait(false);
        await _output.SetChunkSizeAsync(_options.OutgoingChunkSize, _token).ConfigureAwait(false);
        await _output.SendUserControlAsync(UserControlEvent.StreamBegin(0), _token).ConfigureAwait(false);

        var properties = new AmfObject
        {
            { "fmsVer", FmsVersion },
            { "capabilities", 31d },
            { "mode", 1d },
        };
        var info = RtmpCommand.StatusInfo("status", "NetConnection.Connect.Success", "Connection succeeded.");
        info["objectEncoding"] = parameters is not null && parameters.TryGetNumber("objectEncoding", out var encoding) ? encoding : 0d;
        await SendResultAsync(command.TransactionId, properties, info).ConfigureAwait(false);
        _logger.LogDebug("RTMP {Remote}: connected to app '{App}'", _remoteAddress, _app);
    }

    private async ValueTask FcPublishAsync(RtmpCommand command)
    {
        var name = command.GetStringArgument(0) ?? string.Empty;
        await SendResultAsync(command.TransactionId, null, AmfUndefined.Instance).ConfigureAwait(false);
        var info = RtmpCommand.StatusInfo("status", "NetStream.Publish.Start", $"FCPublish to stream {SplitQuery(name).Name}.");
        await _output.SendCommandAsync(RtmpOutput.CommandChunkStream, 0, RtmpCommand.Encode("onFCPublish", 0, null, info), _token).ConfigureAwait(false);
    }

    private ValueTask CreateStreamAsync(RtmpCommand command)
    {
        var id = _nextStreamId++;
        return SendResultAsync(command.TransactionId, null, (double)id);
    }

    private async ValueTask PublishAsync(RtmpCommand command, uint messageStreamId)
    {
        var (name, nameQuery) = SplitQuery(command.GetStringArgument(0) ?? string.Empty);
        if (_publisher is not null || _subscription is not null)
        {
            await RefuseAsync(messageStreamId, "NetStream.Publish.BadName", "This connection is already publishing or playing.").ConfigureAwait(false);
            return;
        }

        var request = new StreamRequest(_app, name, CombineQueries(_appQuery, nameQuery), _remoteAddress);
        var resolution = _connected
            ? await _resolver.ResolvePublishAsync(request, _token).ConfigureAwait(false)
            : StreamResolution.Refuse(StreamRefusal.BadName, "publish before connect.");
        if (!resolution.IsAccepted)
        {
            var code = resolution.Refusal == StreamRefusal.Unauthorized ? "NetStream.Publish.Unauthorized" : "NetStream.Publish.BadName";
            _logger.LogInformation("RTMP {Remote}: publish to '{App}/{Name}' refused: {Code} {Message}", _remoteAddress, _app, name, code, resolution.Message);
            await RefuseAsync(messageStreamId, code, resolution.Message ?? "Publishing refused.").ConfigureAwait(false);
            return;
        }

        _streamId = resolution.StreamId!;
        _timeline = default; // A new publish starts new timelines.
        var publisher = _hub.Publish(_streamId);
        _publisher = publisher;
        _publishMessageStreamId = messageStreamId;
        _revokedRegistration = publisher.Revoked.Register(OnRevoked);
        _sessionCts!.CancelAfter(_options.PublisherIdleTimeout);
        _idleTimerArmedAt = Environment.TickCount64;

        await _output.SendUserControlAsync(UserControlEvent.StreamBegin(messageStreamId), _token).ConfigureAwait(false);
        var info = RtmpCommand.StatusInfo("status", "NetStream.Publish.Start", $"{name} is now published.");
        await _output.SendCommandAsync(RtmpOutput.StreamChunkStream, messageStreamId, RtmpCommand.Encode("onStatus", 0, null, info), _token).ConfigureAwait(false);
        _logger.LogInformation("RTMP {Remote}: publishing stream {StreamId}", _remoteAddress, _streamId);
    }

    private void OnRevoked()
    {
        _revokeReason = _publisher?.RevokeReason ?? PublisherRevokeReason.TakenOver;
        _revoked = true;
        _closeReason = DescribeRevoke(_revokeReason);
        try
        {
            _sessionCts?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The session is already over.
        }
    }

    private static string DescribeRevoke(PublisherRevokeReason reason) => reason switch
    {
        PublisherRevokeReason.ServerShutdown => "server shutting down",
        PublisherRevokeReason.Disconnected => "disconnected by the server",
        _ => "taken over",
    };

    /// <summary>
    /// Tells a publisher the server is closing its stream (onStatus NetStream.Unpublish.Success with the reason)
    /// before the connection closes, so the encoder reports why rather than a network error. Best effort,
    /// bounded: the peer may not be reading.
    /// </summary>
    private async Task TellPublisherClosedAsync(PublisherRevokeReason reason)
    {
        var description = reason switch
        {
            PublisherRevokeReason.ServerShutdown => "The server is shutting down.",
            PublisherRevokeReason.Disconnected => "The stream was disconnected by the server (the livestream was disabled or deleted).",
            _ => "Another publisher took over the stream.",
        };
        var info = RtmpCommand.StatusInfo("status", "NetStream.Unpublish.Success", description);
        using var timeout = new CancellationTokenSource(TellPublisherTimeout);
        try
        {
            await _output.SendCommandAsync(RtmpOutput.StreamChunkStream, _publishMessageStreamId, RtmpCommand.Encode("onStatus", 0, null, info), timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException)
        {
            // The peer is gone or not reading: closing is all that is left.
        }
    }

    /// <summary>
    /// Ends publishing. <paramref name="clean"/>: the encoder unpublished (FCUnpublish/deleteStream/closeStream),
    /// so the stream ends at once; otherwise the connection was lost and the hub's reconnect window applies.
    /// </summary>
    private void StopPublishing(bool clean)
    {
        var publisher = _publisher;
        if (publisher is null)
        {
            return;
        }

        _publisher = null;
        _revokedRegistration.Dispose();
        if (clean)
        {
            publisher.Unpublish();
        }
        else
        {
            publisher.Dispose();
        }

        _logger.LogInformation("RTMP {Remote}: stopped publishing stream {StreamId} ({Reason})", _remoteAddress, _streamId, _closeReason);
    }

    private async ValueTask PlayAsync(RtmpCommand command, uint messageStreamId)
    {
        var (name, nameQuery) = SplitQuery(command.GetStringArgument(0) ?? string.Empty);
        if (_publisher is not null || _subscription is not null)
        {
            await RefuseAsync(messageStreamId, "NetStream.Play.Failed", "This connection is already publishing or playing.").ConfigureAwait(false);
            return;
        }

        var request = new StreamRequest(_app, name, CombineQueries(_appQuery, nameQuery), _remoteAddress);
        var resolution = _connected
            ? await _resolver.ResolvePlayAsync(request, _token).ConfigureAwait(false)
            : StreamResolution.Refuse(StreamRefusal.BadName, "play before connect.");
        var stream = resolution.IsAccepted ? _hub.Find(resolution.StreamId!) : null;
        if (stream is null)
        {
            _logger.LogInformation("RTMP {Remote}: play '{App}/{Name}': not found", _remoteAddress, _app, name);
            await RefuseAsync(messageStreamId, "NetStream.Play.StreamNotFound", resolution.Message ?? $"Stream {name} is not live.").ConfigureAwait(false);
            return;
        }

        // Subscribe first so nothing published while the statuses go out is missed; the loop starts after them.
        _streamId = stream.Id;
        _subscription = stream.Subscribe(replayGop: true);

        await _output.SendUserControlAsync(UserControlEvent.StreamBegin(messageStreamId), _token).ConfigureAwait(false);
        var reset = RtmpCommand.StatusInfo("status", "NetStream.Play.Reset", $"Playing and resetting {name}.");
        await _output.SendCommandAsync(RtmpOutput.StreamChunkStream, messageStreamId, RtmpCommand.Encode("onStatus", 0, null, reset), _token).ConfigureAwait(false);
        var start = RtmpCommand.StatusInfo("status", "NetStream.Play.Start", $"Started playing {name}.");
        await _output.SendCommandAsync(RtmpOutput.StreamChunkStream, messageStreamId, RtmpCommand.Encode("onStatus", 0, null, start), _token).ConfigureAwait(false);
        var access = RtmpCommand.EncodeData("|RtmpSampleAccess", true, true);
        await _output.SendAsync(RtmpOutput.StreamChunkStream, RtmpMessageType.DataAmf0, 0, messageStreamId, access, _token).ConfigureAwait(false);

        _sessionCts!.CancelAfter(Timeout.InfiniteTimeSpan); // a player's input may be silent
        _playCts = CancellationTokenSource.CreateLinkedTokenSource(_token);
        _playTask = PlayLoopAsync(_subscription, messageStreamId, _playCts.Token);
        _logger.LogInformation("RTMP {Remote}: playing stream {StreamId}", _remoteAddress, _streamId);
    }

    private async Task PlayLoopAsync(Subscription subscription, uint messageStreamId, CancellationToken cancellationToken)
    {
        // Tag bodies are built here, then chunked by the output; reused for every frame.
        var body = new ArrayBufferWriter<byte>(64 * 1024);
        long? baseTimestamp = null;
        try
        {
            while (await subscription.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (subscription.TryRead(out var frame))
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
                        await _output.SendAsync(chunkStream, type, unchecked((uint)relative), messageStreamId, body.WrittenMemory, cancellationToken).ConfigureAwait(false);
                    }
                    finally
                    {
                        frame.Payload.Release();
                    }
                }
            }

            // The stream ended: tell the player and close.
            await _output.SendUserControlAsync(UserControlEvent.StreamEof(messageStreamId), cancellationToken).ConfigureAwait(false);
            var info = RtmpCommand.StatusInfo("status", "NetStream.Play.UnpublishNotify", "The stream ended.");
            await _output.SendCommandAsync(RtmpOutput.StreamChunkStream, messageStreamId, RtmpCommand.Encode("onStatus", 0, null, info), cancellationToken).ConfigureAwait(false);
            _closeReason = "stream ended";
            RequestClose();
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
        catch (IOException)
        {
            // The player went away; the read loop sees the close too.
            RequestClose();
        }
        catch (Exception ex)
        {
            _logger.LogWarning(ex, "RTMP {Remote}: playback of {StreamId} failed", _remoteAddress, _streamId);
            RequestClose();
        }
    }

    private void RequestClose()
    {
        _closeRequested = true;
        try
        {
            _sessionCts?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already closing.
        }
    }

    private async ValueTask StopPlayingAsync()
    {
        var subscription = _subscription;
        if (subscription is null)
        {
            return;
        }

        _subscription = null;
        _playCts?.Cancel();
        if (_playTask is { } task)
        {
            await task.ConfigureAwait(false);
        }

        _playCts?.Dispose();
        _playCts = null;
        _playTask = null;
        subscription.Dispose();
    }

    private async ValueTask RefuseAsync(uint messageStreamId, string code, string description)
    {
        var info = RtmpCommand.StatusInfo("error", code, description);
        await _output.SendCommandAsync(RtmpOutput.StreamChunkStream, messageStreamId, RtmpCommand.Encode("onStatus", 0, null, info), _token).ConfigureAwait(false);

        // An encoder left hanging after a refusal is a bug (OBS PR #3078): close once this is flushed.
        _closeRequested = true;
        _closeReason = code;
    }

    private ValueTask SendResultAsync(double transactionId, object? properties, object? info) =>
        _output.SendCommandAsync(RtmpOutput.CommandChunkStream, 0, RtmpCommand.Encode("_result", transactionId, properties, info), _token);

    /// <summary>Splits <c>name?query</c>; the query is null when absent or empty.</summary>
    internal static (string Name, string? Query) SplitQuery(string value)
    {
        var index = value.IndexOf('?', StringComparison.Ordinal);
        if (index < 0)
        {
            return (value, null);
        }

        var query = value[(index + 1)..];
        return (value[..index], query.Length == 0 ? null : query);
    }

    private static string? CombineQueries(string? first, string? second) =>
        first is null ? second : second is null ? first : first + "&" + second;
}
