using MediaServer.Core.Flv;
using MediaServer.Core.Media;
using MediaServer.Rtmp.Chunking;

namespace MediaServer.Rtmp.Messages;

/// <summary>
/// Turns the media messages of one RTMP stream into FLV tag bodies on 64-bit millisecond timelines: audio,
/// video and data each keep their own <see cref="TimestampExtender"/>, since an encoder's tracks wrap the
/// 32-bit RTMP timestamp independently (and may arrive out of step). A mutable struct: keep it in a field.
/// </summary>
public struct RtmpMediaTimeline
{
    private TimestampExtender _audio;
    private TimestampExtender _video;
    private TimestampExtender _data;

    /// <summary>
    /// Maps an audio, video or data message to its FLV tag type, extended timestamp and tag body (an AMF3 data
    /// message loses its leading format byte); false for any other message type.
    /// </summary>
    public bool TryMap(in RtmpMessage message, out FlvTagType type, out long timestamp, out ReadOnlySpan<byte> body)
    {
        body = message.Span;
        switch (message.Type)
        {
            case RtmpMessageType.Audio:
                type = FlvTagType.Audio;
                timestamp = _audio.Extend(message.Timestamp);
                return true;
            case RtmpMessageType.Video:
                type = FlvTagType.Video;
                timestamp = _video.Extend(message.Timestamp);
                return true;
            case RtmpMessageType.DataAmf0:
            case RtmpMessageType.DataAmf3:
                type = FlvTagType.Script;
                timestamp = _data.Extend(message.Timestamp);
                if (message.Type == RtmpMessageType.DataAmf3 && body.Length > 0 && body[0] == 0)
                {
                    body = body[1..];
                }

                return true;
            default:
                type = default;
                timestamp = 0;
                return false;
        }
    }
}
