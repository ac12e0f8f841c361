using System.Buffers;
using System.Buffers.Binary;
using MediaServer.Core.Media;

namespace MediaServer.Core.Flv;

/// <summary>
/// <see cref="MediaFrame"/> → FLV tag body. H.264, AAC and MP3 use the legacy headers every player
/// understands; HEVC, AV1, VP9, Opus, FLAC, AC-3 and E-AC-3 use Enhanced RTMP headers with a FourCC.
/// </summary>
/// <remarks>
/// <code>
/// H.264      UB[4] FrameType | UB[4] 7 | UI8 AVCPacketType | SI24 CompositionTime | payload
/// AAC        0xAF (AAC, 44 kHz, 16-bit, stereo: the spec requires these for AAC) | UI8 AACPacketType | payload
/// MP3        0x2F (MP3, 44 kHz, 16-bit, stereo) | payload
/// Ex video   1 | UB[3] FrameType | UB[4] VideoPacketType | FOURCC | [SI24 CTS: HEVC CodedFrames] | payload
/// Ex audio   UB[4] 9 | UB[4] AudioPacketType | FOURCC | payload
/// Data       the AMF0 bytes as they are
/// </code>
/// HEVC frames with a zero composition time use CodedFramesX (no SI24). An end-of-sequence frame is written
/// as the header alone (AVC end of sequence / Enhanced SequenceEnd); its payload, empty by convention, is not
/// written. AV1 and VP9 have no composition time on the wire; a non-zero one is dropped. A
/// <see cref="FrameFlags.Discontinuity"/> flag has no FLV representation.
/// </remarks>
public static class FlvMuxer
{
    private const int LegacyAvcHeaderLength = 5;
    private const int LegacyAacHeaderLength = 2;
    private const int LegacyMp3HeaderLength = 1;
    private const int ExHeaderLength = 5;
    private const int Si24Length = 3;

    // SoundFormat 10 (AAC) | rate 3 (44 kHz) | size 1 (16-bit) | type 1 (stereo).
    private const byte AacAudioTagHeader = 0xAF;

    // SoundFormat 2 (MP3) | rate 3 (44 kHz) | size 1 (16-bit) | type 1 (stereo).
    private const byte Mp3AudioTagHeader = 0x2F;

    /// <summary>The tag (message) type for a frame.</summary>
    public static FlvTagType GetTagType(in MediaFrame frame) => frame.Kind switch
    {
        MediaKind.Video => FlvTagType.Video,
        MediaKind.Audio => FlvTagType.Audio,
        _ => FlvTagType.Script,
    };

    /// <summary>Exact size of the tag body <see cref="WriteTagBody"/> writes.</summary>
    public static int GetTagBodyLength(in MediaFrame frame) => GetHeaderLength(frame) + GetWrittenPayloadLength(frame);

    /// <summary>
    /// Writes the tag body: legacy headers for H.264, AAC and MP3 (what every player understands), Enhanced
    /// RTMP headers with FourCC for HEVC, AV1, VP9, Opus and the other extended codecs.
    /// </summary>
    public static void WriteTagBody(in MediaFrame frame, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var headerLength = GetHeaderLength(frame);
        if (headerLength > 0)
        {
            WriteHeader(frame, output.GetSpan(headerLength));
            output.Advance(headerLength);
        }

        // Copied in as many pieces as the writer offers (a PipeWriter's segments are small next to a keyframe).
        if (GetWrittenPayloadLength(frame) > 0)
        {
            output.Write(frame.Span);
        }
    }

    private static bool IsEndOfSequence(in MediaFrame frame) => (frame.Flags & FrameFlags.EndOfSequence) != 0;

    private static int GetWrittenPayloadLength(in MediaFrame frame) => IsEndOfSequence(frame) ? 0 : frame.Payload.Length;

    private static int GetHeaderLength(in MediaFrame frame)
    {
        switch (frame.Kind)
        {
            case MediaKind.Video:
                switch (frame.Codec)
                {
                    case MediaCodec.H264:
                        return LegacyAvcHeaderLength;
                    case MediaCodec.Hevc:
                        return !frame.IsConfig && !IsEndOfSequence(frame) && frame.CompositionTime != 0
                            ? ExHeaderLength + Si24Length
                            : ExHeaderLength;
                    case MediaCodec.Av1:
                    case MediaCodec.Vp9:
                        return ExHeaderLength;
                }

                break;
            case MediaKind.Audio:
                if (UsesLegacyAudioHeader(frame))
                {
                    return frame.Codec == MediaCodec.Aac ? LegacyAacHeaderLength : LegacyMp3HeaderLength;
                }

                if (FlvFourCc.FromCodec(frame.Codec) != 0)
                {
                    return ExHeaderLength;
                }

                break;
            case MediaKind.Data:
                return 0;
        }

        return ThrowUnsupported(frame);
    }

    /// <summary>AAC config/media and MP3 media have legacy forms; end of sequence (and an MP3 "config") only an Enhanced one.</summary>
    private static bool UsesLegacyAudioHeader(in MediaFrame frame) =>
        !IsEndOfSequence(frame)
        && (frame.Codec == MediaCodec.Aac || (frame.Codec == MediaCodec.Mp3 && !frame.IsConfig));

    private static void WriteHeader(in MediaFrame frame, Span<byte> span)
    {
        if (frame.Kind == MediaKind.Video)
        {
            var frameType = frame.IsKeyframe ? FlvVideoFrameType.KeyFrame : FlvVideoFrameType.InterFrame;
            if (frame.Codec == MediaCodec.H264)
            {
                var packetType = IsEndOfSequence(frame) ? FlvAvcPacketType.EndOfSequence
                    : frame.IsConfig ? FlvAvcPacketType.SequenceHeader
                    : FlvAvcPacketType.Nalu;
                span[0] = (byte)(((int)frameType << 4) | (int)FlvVideoCodecId.Avc);
                span[1] = (byte)packetType;
                WriteSi24(span[2..], packetType == FlvAvcPacketType.Nalu ? frame.CompositionTime : 0);
                return;
            }

            var exPacketType = IsEndOfSequence(frame) ? FlvVideoPacketType.SequenceEnd
                : frame.IsConfig ? FlvVideoPacketType.SequenceStart
                : frame.Codec == MediaCodec.Hevc && frame.CompositionTime != 0 ? FlvVideoPacketType.CodedFrames
                : frame.Codec == MediaCodec.Hevc ? FlvVideoPacketType.CodedFramesX
                : FlvVideoPacketType.CodedFrames;
            span[0] = (byte)(0x80 | ((int)frameType << 4) | (int)exPacketType);
            BinaryPrimitives.WriteUInt32BigEndian(span[1..], FlvFourCc.FromCodec(frame.Codec));
            if (frame.Codec == MediaCodec.Hevc && exPacketType == FlvVideoPacketType.CodedFrames)
            {
                WriteSi24(span[ExHeaderLength..], frame.CompositionTime);
            }

            return;
        }

        if (frame.Kind == MediaKind.Audio)
        {
            if (UsesLegacyAudioHeader(frame))
            {
                if (frame.Codec == MediaCodec.Aac)
                {
                    span[0] = AacAudioTagHeader;
                    span[1] = (byte)(frame.IsConfig ? FlvAacPacketType.SequenceHeader : FlvAacPacketType.Raw);
                }
                else
                {
                    span[0] = Mp3AudioTagHeader;
                }

                return;
            }

            var packetType = IsEndOfSequence(frame) ? FlvAudioPacketType.SequenceEnd
                : frame.IsConfig ? FlvAudioPacketType.SequenceStart
                : FlvAudioPacketType.CodedFrames;
            span[0] = (byte)(((int)FlvSoundFormat.ExHeader << 4) | (int)packetType);
            BinaryPrimitives.WriteUInt32BigEndian(span[1..], FlvFourCc.FromCodec(frame.Codec));
        }
    }

    private static void WriteSi24(Span<byte> destination, int value)
    {
        if (value is < FlvLimits.MinCompositionTime or > FlvLimits.MaxCompositionTime)
        {
            ThrowCompositionTimeOutOfRange(value);
        }

        destination[0] = (byte)(value >> 16);
        destination[1] = (byte)(value >> 8);
        destination[2] = (byte)value;
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowCompositionTimeOutOfRange(int value) =>
        throw new ArgumentOutOfRangeException(nameof(value), value, "The composition time does not fit the FLV SI24 field.");

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static int ThrowUnsupported(in MediaFrame frame) =>
        throw new ArgumentException($"FLV cannot carry a {frame.Kind} frame of codec {frame.Codec}.", nameof(frame));
}
