using System.Buffers;
using MediaServer.Core.Codecs;
using MediaServer.Core.Flv;
using MediaServer.Core.Media;

namespace MediaServer.Fuzzing.Targets;

/// <summary>
/// FLV tag parsing. Input: byte 0 selects the mode (0 video, 1 audio, 2 script tag body, 3 a whole FLV file
/// whose tags are demuxed in turn); the rest is the body or the file. A sequence header that demuxes is also
/// described (<see cref="CodecStrings.Describe"/>), as the HLS side does. Escapes: <see cref="FlvFormatException"/>.
/// </summary>
internal static class FlvTarget
{
    public static void Run(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
        {
            return;
        }

        var data = input[1..];
        switch (input[0] & 3)
        {
            case 0:
                Demux(FlvTagType.Video, 0, data);
                break;
            case 1:
                Demux(FlvTagType.Audio, 0, data);
                break;
            case 2:
                Demux(FlvTagType.Script, 0, data);
                break;
            default:
                File(data, 1 + (input[0] >> 2));
                break;
        }
    }

    private static void File(ReadOnlySpan<byte> data, int segmentLength)
    {
        var reader = new SequenceReader<byte>(FuzzSequence.Create(data, segmentLength));
        try
        {
            if (!FlvFileReader.TryReadHeader(ref reader, out _))
            {
                return;
            }

            while (FlvFileReader.TryReadTag(ref reader, out var tag))
            {
                FuzzFindingException.Check(tag.Body.Length <= FlvLimits.MaxTagBodyLength, "tag body within the limit");
                Demux(tag.Type, tag.Timestamp, tag.Body.ToArray());
            }
        }
        catch (FlvFormatException)
        {
        }
    }

    private static void Demux(FlvTagType type, long timestamp, ReadOnlySpan<byte> body)
    {
        try
        {
            var status = FlvDemuxer.Demux(type, timestamp, body, out var frame, out var unsupportedCodec);
            FuzzFindingException.Check(status != FlvDemuxStatus.UnsupportedCodec || unsupportedCodec is not null, "an unsupported codec is named");
            if (status != FlvDemuxStatus.Frame)
            {
                return;
            }

            try
            {
                FuzzFindingException.Check(frame.Payload.Length <= body.Length, "a frame is no larger than its tag");
                FuzzFindingException.Check(frame.Timestamp == timestamp, "the frame keeps the tag timestamp");
                if (frame.IsConfig)
                {
                    _ = CodecStrings.Describe(frame.Codec, frame.Span);
                }
            }
            finally
            {
                frame.Payload.Release();
            }
        }
        catch (FlvFormatException)
        {
        }
    }
}
