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
                    return _output.SendCommandAsync(RtmpOutput.CommandChunkStream, 0, RtmpCommand.Encode("_error", command.TransactionId, null, info), Token);
                }

                return ValueTask.CompletedTask;
        }
    }

    private async ValueTask ConnectAsync(RtmpCommand command)
    {
        var parameters = command.GetObjectArgument(-1);
        var app = parameters is not null && parameters.TryGetString("app", out var a) ? a : string.Empty;
        _application = SplitQuery(app.Trim('/'));

        await _output.SendControlAsync(RtmpMessageType.WindowAcknowledgementSize, ProtocolControl.WindowAcknowledgementSize(_options.WindowAckSize), Token).ConfigureAwait(false);
        _ack.Announced(_options.WindowAckSize);
        await _output.SendControlAsync(RtmpMessageType.SetPeerBandwidth, ProtocolControl.SetPeerBandwidth(_options.PeerBandwidth, PeerBandwidthLimitType.Dynamic), Token).ConfigureAwait(false);
        await _output.SetChunkSizeAsync(_options.OutgoingChunkSize, Token).ConfigureAwait(false);
        await _output.SendUserControlAsync(UserControlEvent.StreamBegin(0), Token).ConfigureAwait(false);

        var properties = new AmfObject
        {
            { "fmsVer", FmsVersion },
            { "capabilities", 31d },
            { "mode", 1d },
        };
        var info = RtmpCommand.StatusInfo("status", "NetConnection.Connect.Success", "Connection succeeded.");
        info["objectEncoding"] = parameters is not null && parameters.TryGetNumber("objectEncoding", out var encoding) ? encoding : 0d;
        await SendResultAsync(command.TransactionId, properties, info).ConfigureAwait(false);
        _logger.LogDebug("RTMP {Remote}: connected to app '{App}'", _remoteAddress, StreamKeyHash.AppForLog(_application.Value.Name));
    }

    private async ValueTask FcPublishAsync(RtmpCommand command)
    {
        var name = command.GetStringArgument(0) ?? string.Empty;
        await SendResultAsync(command.TransactionId, null, AmfUndefined.Instance).ConfigureAwait(false);
        var info = RtmpCommand.StatusInfo("status", "NetStream.Publish.Start", $"FCPublish to stream {SplitQuery(name).Name}.");
        await _output.SendCommandAsync(RtmpOutput.CommandChunkStream, 0, RtmpCommand.Encode("onFCPublish", 0, null, info), Token).ConfigureAwait(false);
    }

    private ValueTask CreateStreamAsync(RtmpCommand command)
    {
        var id = _nextStreamId++;
        return SendResultAsync(command.TransactionId, null, (double)id);
    }

    private async ValueTask PublishAsync(RtmpCommand command, uint messageStreamId)
    {
        var (name, nameQuery) = SplitQuery(command.GetStringArgument(0) ?? string.Empty);
        if (_ingest is not null || _playback is not null)
        {
            await RefuseAsync(messageStreamId, "NetStream.Publish.BadName", "This connection is already publishing or playing.").ConfigureAwait(false);
            return;
        }

        var resolution = _application is { } application
            ? await _resolver.ResolvePublishAsync(Request(application, name, nameQuery), Token).ConfigureAwait(false)
            : StreamResolution.Refuse(StreamRefusal.BadName, "publish before connect.");
        if (!resolution.IsAccepted)
        {
            var code = resolution.Refusal == StreamRefusal.Unauthorized ? "NetStream.Publish.Unauthorized" : "NetStream.Publish.BadName";
            // The name is the stream key, a publishing credential: the log gets its hash only.
            _logger.LogInformation("RTMP {Remote}: publish to '{App}/{KeyHash}' refused: {Code} {Message}", _remoteAddress, StreamKeyHash.AppForLog(_application?.Name), StreamKeyHash.Of(name), code, resolution.Message);
            await RefuseAsync(messageStreamId, code, resolution.Message ?? "Publishing refused.").ConfigureAwait(false);
            return;
        }

        _logScope.StreamId = resolution.StreamId;
        _ingest = new RtmpIngest(_hub.Publish(resolution.StreamId!), messageStreamId, OnRevoked, _logger, _remoteAddress);
        _idle!.Arm();
        Trust(publisher: true);

        await _output.SendUserControlAsync(UserControlEvent.StreamBegin(messageStreamId), Token).ConfigureAwait(false);
        var info = RtmpCommand.StatusInfo("status", "NetStream.Publish.Start", $"{name} is now published.");
        await _output.SendCommandAsync(RtmpOutput.StreamChunkStream, messageStreamId, RtmpCommand.Encode("onStatus", 0, null, info), Token).ConfigureAwait(false);
        _logger.LogInformation("RTMP {Remote}: publishing stream {StreamId}", _remoteAddress, _ingest.StreamId);
    }

    // The hub took the stream away (takeover, livestream disconnected, shutdown): end the session; RunAsync tells the encoder.
    private void OnRevoked()
    {
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
    private async Task TellPublisherClosedAsync(uint messageStreamId, PublisherRevokeReason reason)
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
            await _output.SendCommandAsync(RtmpOutput.StreamChunkStream, messageStreamId, RtmpCommand.Encode("onStatus", 0, null, info), timeout.Token).ConfigureAwait(false);
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
        if (_ingest is not { } ingest)
        {
            return;
        }

        _ingest = null;
        ingest.Stop(clean);
        _logger.LogInformation("RTMP {Remote}: stopped publishing stream {StreamId} ({Reason})", _remoteAddress, ingest.StreamId, _closeReason);
    }

    private async ValueTask PlayAsync(RtmpCommand command, uint messageStreamId)
    {
        var (name, nameQuery) = SplitQuery(command.GetStringArgument(0) ?? string.Empty);
        if (_ingest is not null || _playback is not null)
        {
            await RefuseAsync(messageStreamId, "NetStream.Play.Failed", "This connection is already publishing or playing.").ConfigureAwait(false);
            return;
        }

        var resolution = _application is { } application
            ? await _resolver.ResolvePlayAsync(Request(application, name, nameQuery), Token).ConfigureAwait(false)
            : StreamResolution.Refuse(StreamRefusal.BadName, "play before connect.");
        var stream = resolution.IsAccepted ? _hub.Find(resolution.StreamId!) : null;
        if (stream is null)
        {
            _logger.LogInformation("RTMP {Remote}: play '{App}/{Name}': not found", _remoteAddress, StreamKeyHash.AppForLog(_application?.Name), name);
            await RefuseAsync(messageStreamId, "NetStream.Play.StreamNotFound", resolution.Message ?? $"Stream {name} is not live.").ConfigureAwait(false);
            return;
        }

        if (_limits?.TryAcquirePlayer(stream.Id, _addressKey) is { } full)
        {
            _logger.LogInformation("RTMP {Remote}: play '{StreamId}' refused: {Reason}", _remoteAddress, stream.Id, full);
            await RefuseAsync(messageStreamId, "NetStream.Play.Failed", full).ConfigureAwait(false);
            return;
        }

        // Subscribe first so nothing published while the statuses go out is missed; the loop starts after them.
        _playback = new RtmpPlayback(stream.Subscribe(replayGop: true), _output, messageStreamId, RequestClose, _logger, _remoteAddress, Token, _options.PlayerWriteTimeout, OnPlayerWriteTimeout);
        _playerSlot = _limits is null ? null : stream.Id;
        Trust(publisher: false);

        await _output.SendUserControlAsync(UserControlEvent.StreamBegin(messageStreamId), Token).ConfigureAwait(false);
        var reset = RtmpCommand.StatusInfo("status", "NetStream.Play.Reset", $"Playing and resetting {name}.");
        await _output.SendCommandAsync(RtmpOutput.StreamChunkStream, messageStreamId, RtmpCommand.Encode("onStatus", 0, null, reset), Token).ConfigureAwait(false);
        var start = RtmpCommand.StatusInfo("status", "NetStream.Play.Start", $"Started playing {name}.");
        await _output.SendCommandAsync(RtmpOutput.StreamChunkStream, messageStreamId, RtmpCommand.Encode("onStatus", 0, null, start), Token).ConfigureAwait(false);
        var access = RtmpCommand.EncodeData("|RtmpSampleAccess", true, true);
        await _output.SendAsync(RtmpOutput.StreamChunkStream, RtmpMessageType.DataAmf0, 0, messageStreamId, access, Token).ConfigureAwait(false);

        _idle!.Disarm(); // a player's input may be silent
        _playback.Start();
        _logScope.StreamId = stream.Id;
        _logger.LogInformation("RTMP {Remote}: playing stream {StreamId}", _remoteAddress, stream.Id);
    }

    // The stream id this session holds a player slot of, in _limits.
    private string? _playerSlot;

    private void OnPlayerWriteTimeout()
    {
        AbortTransport = true;
        _logger.LogInformation("RTMP {Remote}: player of {StreamId} stopped reading for {Seconds:0.#} s; disconnecting", _remoteAddress, _playback?.StreamId, _options.PlayerWriteTimeout.TotalSeconds);
        RequestClose("player stopped reading");
    }

    private void RequestClose(string reason)
    {
        _closeRequested = true;
        _closeReason = reason;
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
        if (_playback is not { } playback)
        {
            return;
        }

        _playback = null;
        await playback.StopAsync().ConfigureAwait(false);
        if (_playerSlot is { } slot)
        {
            _playerSlot = null;
            _limits!.ReleasePlayer(slot, _addressKey);
        }

        if (!_closeRequested)
        {
            _idle?.Arm(); // no longer a player: silence counts again
        }
    }

    private async ValueTask RefuseAsync(uint messageStreamId, string code, string description)
    {
        var info = RtmpCommand.StatusInfo("error", code, description);
        await _output.SendCommandAsync(RtmpOutput.StreamChunkStream, messageStreamId, RtmpCommand.Encode("onStatus", 0, null, info), Token).ConfigureAwait(false);

        // An encoder left hanging after a refusal is a bug (OBS PR #3078): close once this is flushed.
        _closeRequested = true;
        _closeReason = code;
    }

    private ValueTask SendResultAsync(double transactionId, object? properties, object? info) =>
        _output.SendCommandAsync(RtmpOutput.CommandChunkStream, 0, RtmpCommand.Encode("_result", transactionId, properties, info), Token);

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

    private StreamRequest Request((string Name, string? Query) application, string name, string? nameQuery) =>
        new(application.Name, name, CombineQueries(application.Query, nameQuery), _remoteAddress);

    private static string? CombineQueries(string? first, string? second) =>
        first is null ? second : second is null ? first : first + "&" + second;
}
