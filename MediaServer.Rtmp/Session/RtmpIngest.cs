using MediaServer.Core.Diagnostics;
using MediaServer.Core.Flv;
using MediaServer.Core.Media;
using MediaServer.Core.Streams;
using MediaServer.Rtmp.Chunking;
using MediaServer.Rtmp.Messages;
using Microsoft.Extensions.Logging;

namespace MediaServer.Rtmp.Session;

/// <summary>
/// The publishing side of one RTMP connection: audio, video, data and aggregate messages (§7.1.6) demuxed
/// (<see cref="FlvDemuxer"/>) onto the stream's timeline and into its <see cref="Publisher"/>. Unsupported codecs
/// are reported once per kind and codec; malformed frames are dropped and logged aggregated.
/// </summary>
internal sealed class RtmpIngest : IDisposable
{
    private readonly ILogger _logger;
    private readonly string? _remoteAddress;
    private readonly AggregateErrorLog _malformed;
    private readonly CancellationTokenRegistration _revokedRegistration;
    private RtmpMediaTimeline _timeline;
    private string? _unsupportedVideo;
    private string? _unsupportedAudio;

    /// <param name="publisher">The stream's publisher, owned by this from now on.</param>
    /// <param name="messageStreamId">The message stream the encoder publishes on.</param>
    /// <param name="onRevoked">Called (on the hub's thread) when the hub takes the stream away.</param>
    public RtmpIngest(Publisher publisher, uint messageStreamId, Action onRevoked, ILogger logger, string? remoteAddress)
    {
        Publisher = publisher;
        MessageStreamId = messageStreamId;
        _logger = logger;
        _remoteAddress = remoteAddress;
        _malformed = new AggregateErrorLog(logger, $"RTMP {remoteAddress}: stream {publisher.Stream.Id}", "malformed frame(s) dropped");
        _revokedRegistration = publisher.Revoked.Register(onRevoked);
    }

    public Publisher Publisher { get; }

    public string StreamId => Publisher.Stream.Id;

    public uint MessageStreamId { get; }

    /// <summary>Frames dropped as malformed.</summary>
    public long MalformedFrames => _malformed.Count;

    /// <summary>One media or data message of the publisher.</summary>
    public void OnMedia(in RtmpMessage message)
    {
        if (!_timeline.TryMap(message, out var type, out var timestamp, out var body))
        {
            return;
        }

        FlvDemuxStatus status;
        MediaFrame frame;
        string? codec;
        try
        {
            status = FlvDemuxer.Demux(type, timestamp, message.Payload, body, out frame, out codec);
        }
        catch (FlvFormatException ex)
        {
            _malformed.Add(ex.Error, ex.Message);
            return;
        }

        if (status == FlvDemuxStatus.Frame)
        {
            try
            {
                Publisher.Publish(frame);
            }
            finally
            {
                frame.Payload.Release();
            }
        }
        else if (status == FlvDemuxStatus.UnsupportedCodec)
        {
            // Reported (and logged) once per kind and codec; later frames of it are dropped without formatting.
            if (!string.Equals(codec, type == FlvTagType.Video ? _unsupportedVideo : _unsupportedAudio, StringComparison.Ordinal))
            {
                ReportUnsupported(type, codec ?? "unknown");
            }
        }
    }

    /// <summary>
    /// An aggregate message (§7.1.6): its audio, video and data sub-messages go through <see cref="OnMedia"/> as if
    /// sent one by one, as slices of the aggregate's buffer (no copy), on the aggregate's message stream and timeline.
    /// A malformed sub-message drops it and the rest of the aggregate, counted with the malformed frames.
    /// </summary>
    public void OnAggregate(in RtmpMessage message)
    {
        var offset = 0;
        var first = (uint?)null;
        try
        {
            while (RtmpAggregate.TryReadNext(message.Span, ref offset, out var sub))
            {
                first ??= sub.Timestamp;
                if (sub.Type is not (RtmpMessageType.Audio or RtmpMessageType.Video or RtmpMessageType.DataAmf0 or RtmpMessageType.DataAmf3))
                {
                    continue;
                }

                var payload = message.Payload.Slice(sub.Offset, sub.Length);
                try
                {
                    var timestamp = RtmpAggregate.Timestamp(message.Timestamp, first.Value, sub.Timestamp);
                    OnMedia(new RtmpMessage(message.ChunkStreamId, sub.Type, timestamp, message.MessageStreamId, payload));
                }
                finally
                {
                    payload.Release();
                }
            }
        }
        catch (FlvFormatException ex)
        {
            _malformed.Add(ex.Error, ex.Message);
        }
    }

    /// <summary>
    /// Ends publishing. <paramref name="clean"/>: the encoder unpublished (FCUnpublish/deleteStream/closeStream),
    /// so the stream ends at once; otherwise the connection was lost and the hub's reconnect window applies.
    /// </summary>
    public void Stop(bool clean)
    {
        _revokedRegistration.Dispose();
        if (clean)
        {
            Publisher.Unpublish();
        }
        else
        {
            Publisher.Dispose();
        }

        _malformed.Complete();
    }

    public void Dispose() => Stop(clean: false);

    private void ReportUnsupported(FlvTagType type, string codec)
    {
        if (type == FlvTagType.Video)
        {
            _unsupportedVideo = codec;
        }
        else
        {
            _unsupportedAudio = codec;
        }

        var kind = type == FlvTagType.Video ? "video" : type == FlvTagType.Audio ? "audio" : "data";
        var text = $"Unsupported {kind} codec '{codec}': it is not carried.";
        if (Publisher.Stream.ReportDiagnostic(DiagnosticKeys.RtmpUnsupportedCodec(kind), text))
        {
            _logger.LogWarning("RTMP {Remote}: stream {StreamId}: {Message}", _remoteAddress, StreamId, text);
        }
    }
}
