using System.Buffers.Binary;
using MediaServer.Core.Buffers;
using MediaServer.Core.Media;

namespace MediaServer.Core.Flv;

/// <summary>
/// FLV tag body → <see cref="MediaFrame"/>.
/// </summary>
/// <remarks>
/// <para>Legacy video (FLV spec v10.1 §E.4.3.1):</para>
/// <code>
/// UB[4] FrameType | UB[4] CodecID (7 = AVC, 12 = legacy HEVC)
/// UI8   AVCPacketType (0 sequence header, 1 NALU, 2 end of sequence)
/// SI24  CompositionTime (ms)
/// ...   AVCDecoderConfigurationRecord | length-prefixed NAL units
/// </code>
/// <para>Enhanced RTMP video (enhanced-rtmp v2, ExVideoTagHeader / ExVideoTagBody):</para>
/// <code>
/// UB[1] IsExHeader = 1 | UB[3] FrameType | UB[4] VideoPacketType
/// [ModEx: UI8 size-1 (UI16 size-1 if 255) | data | UB[4] ModExType | UB[4] VideoPacketType]*
/// [Multitrack: UB[4] AvMultitrackType | UB[4] VideoPacketType]
/// FOURCC (avc1, hvc1, av01, vp09)
/// [multitrack: (FOURCC) UI8 TrackId (UI24 TrackSize)]
/// [SI24 CompositionTime: CodedFrames of avc1/hvc1 only] | payload
/// </code>
/// <para>Legacy audio (§E.4.2.1): <c>UB[4] SoundFormat | UB[2] rate | UB[1] size | UB[1] type</c>, then for
/// AAC a UI8 AACPacketType (0 AudioSpecificConfig, 1 raw frame). Enhanced audio: SoundFormat 9, the low
/// nibble is an AudioPacketType, then ModEx / Multitrack as for video and a FOURCC.</para>
/// <para>Script data: an optional <c>@setDataFrame</c> AMF0 string, then the handler name (AMF0 string,
/// normally <c>onMetaData</c>) and its values, kept as AMF0 bytes.</para>
/// </remarks>
public static class FlvDemuxer
{
    // VideoTagHeader (1) + AVCPacketType (1) + CompositionTime SI24 (3).
    private const int LegacyAvcHeaderLength = 5;

    // AudioTagHeader (1) + AACPacketType (1).
    private const int LegacyAacHeaderLength = 2;
    private const int FourCcLength = 4;
    private const int Si24Length = 3;

    // ModEx data size is UI8 + 1; the value 256 escapes to a UI16 + 1 size.
    private const int ModExEscapedSize = 256;

    // Script data name marker: AMF0 string type (0x02) then a UI16 length.
    private const byte Amf0StringMarker = 0x02;
    private const int Amf0StringHeaderLength = 3;

    // AMF0 string "@setDataFrame": marker 0x02, UI16 length 13, the UTF-8 bytes.
    private static ReadOnlySpan<byte> SetDataFrameString => "\u0002\u0000\u000D@setDataFrame"u8;

    private static volatile UnknownFourCc? s_lastUnknownFourCc;

    /// <summary>
    /// Parses one audio, video or script tag body (an RTMP message payload) into a frame whose payload is
    /// copied into a pooled <see cref="MediaBuffer"/>.
    /// </summary>
    /// <param name="type">Tag (message) type.</param>
    /// <param name="timestamp">Extended (64-bit) timestamp in milliseconds.</param>
    /// <param name="body">The tag body.</param>
    /// <param name="frame">The frame, when <see cref="FlvDemuxStatus.Frame"/> is returned.</param>
    /// <param name="unsupportedCodec">A human-readable codec name when <see cref="FlvDemuxStatus.UnsupportedCodec"/> is returned.</param>
    /// <exception cref="FlvFormatException">The body is malformed (truncated header, bad packet type).</exception>
    public static FlvDemuxStatus Demux(FlvTagType type, long timestamp, ReadOnlySpan<byte> body, out MediaFrame frame, out string? unsupportedCodec) =>
        Demux(type, timestamp, null, body, out frame, out unsupportedCodec);

    /// <summary>
    /// As <see cref="Demux(FlvTagType, long, ReadOnlySpan{byte}, out MediaFrame, out string?)"/>, for a body that lies
    /// within <paramref name="owner"/> (an RTMP message's buffer): the frame's payload is a slice of it, holding a
    /// reference on it, instead of a copy.
    /// </summary>
    public static FlvDemuxStatus Demux(FlvTagType type, long timestamp, MediaBuffer? owner, ReadOnlySpan<byte> body, out MediaFrame frame, out string? unsupportedCodec)
    {
        frame = default;
        unsupportedCodec = null;
        if (body.Length > FlvLimits.MaxTagBodyLength)
        {
            FlvThrow.Format(FlvError.TooLarge);
        }

        // Empty audio/video messages are sent by some encoders (and by FMS as "no data" markers); skip them.
        if (body.IsEmpty)
        {
            return FlvDemuxStatus.Ignored;
        }

        return type switch
        {
            FlvTagType.Video => DemuxVideo(owner, timestamp, body, out frame, out unsupportedCodec),
            FlvTagType.Audio => DemuxAudio(owner, timestamp, body, out frame, out unsupportedCodec),
            FlvTagType.Script => DemuxScript(owner, timestamp, body, out frame),
            _ => FlvDemuxStatus.Ignored,
        };
    }

    private static FlvDemuxStatus DemuxVideo(MediaBuffer? owner, long timestamp, ReadOnlySpan<byte> body, out MediaFrame frame, out string? unsupportedCodec)
    {
        frame = default;
        unsupportedCodec = null;
        var first = body[0];
        var frameType = (FlvVideoFrameType)((first >> 4) & 0x07);
        if ((first & 0x80) != 0)
        {
            return DemuxExVideo(owner, frameType, (FlvVideoPacketType)(first & 0x0F), timestamp, body[1..], out frame, out unsupportedCodec);
        }

        if (frameType == FlvVideoFrameType.Command)
        {
            return FlvDemuxStatus.Ignored;
        }

        var flags = GetKeyframeFlags(frameType);
        var codecId = (FlvVideoCodecId)(first & 0x0F);
        MediaCodec codec;
        switch (codecId)
        {
            case FlvVideoCodecId.Avc:
                codec = MediaCodec.H264;
                break;
            case FlvVideoCodecId.LegacyHevc:
                codec = MediaCodec.Hevc;
                break;
            default:
                unsupportedCodec = GetLegacyVideoCodecName(codecId);
                return FlvDemuxStatus.UnsupportedCodec;
        }

        if (body.Length < LegacyAvcHeaderLength)
        {
            FlvThrow.Format(FlvError.TruncatedHeader);
        }

        var payload = body[LegacyAvcHeaderLength..];
        switch ((FlvAvcPacketType)body[1])
        {
            case FlvAvcPacketType.SequenceHeader:
                frame = CreateFrame(owner, MediaKind.Video, codec, flags | FrameFlags.Config, timestamp, 0, payload);
                break;
            case FlvAvcPacketType.Nalu:
                frame = CreateFrame(owner, MediaKind.Video, codec, flags, timestamp, ReadSi24(body[2..]), payload);
                break;
            case FlvAvcPacketType.EndOfSequence:
                frame = CreateFrame(owner, MediaKind.Video, codec, flags | FrameFlags.EndOfSequence, timestamp, 0, []);
                break;
            default:
                FlvThrow.Format(FlvError.InvalidPacketType);
                break;
        }

        return FlvDemuxStatus.Frame;
    }

    private static FlvDemuxStatus DemuxExVideo(MediaBuffer? owner, FlvVideoFrameType frameType, FlvVideoPacketType packetType, long timestamp, ReadOnlySpan<byte> rest, out MediaFrame frame, out string? unsupportedCodec)
    {
        frame = default;
        unsupportedCodec = null;
        while (packetType == FlvVideoPacketType.ModEx)
        {
            rest = SkipModEx(rest, out var next);
            packetType = (FlvVideoPacketType)next;
        }

        // "If VideoPacketType.Metadata is present, the FrameType flags should be ignored."
        if (packetType == FlvVideoPacketType.Metadata)
        {
            return FlvDemuxStatus.Ignored;
        }

        // A command frame carries a UI8 VideoCommand (seek start/end) and no video.
        if (frameType == FlvVideoFrameType.Command)
        {
            return FlvDemuxStatus.Ignored;
        }

        var flags = GetKeyframeFlags(frameType);
        var rawType = (byte)packetType;
        if (!TryReadTrack(ref rawType, (byte)FlvVideoPacketType.Multitrack, (byte)FlvVideoPacketType.ModEx, ref rest, out var fourCc))
        {
            return FlvDemuxStatus.Ignored;
        }

        packetType = (FlvVideoPacketType)rawType;

        switch (packetType)
        {
            case FlvVideoPacketType.Metadata:
            case FlvVideoPacketType.Mpeg2TsSequenceStart:
                return FlvDemuxStatus.Ignored;
            case > FlvVideoPacketType.ModEx:
                FlvThrow.Format(FlvError.InvalidPacketType);
                break;
        }

        if (!FlvFourCc.TryGetCodec(fourCc, MediaKind.Video, out var codec, out var hasCompositionTime))
        {
            unsupportedCodec = fourCc == FlvFourCc.Vp08 ? "VP8 (vp08)" : GetUnknownFourCcName(fourCc);
            return FlvDemuxStatus.UnsupportedCodec;
        }

        switch (packetType)
        {
            case FlvVideoPacketType.SequenceStart:
                frame = CreateFrame(owner, MediaKind.Video, codec, flags | FrameFlags.Config, timestamp, 0, rest);
                break;
            case FlvVideoPacketType.CodedFrames:
                var compositionTime = 0;
                if (hasCompositionTime)
                {
                    if (rest.Length < Si24Length)
                    {
                        FlvThrow.Format(FlvError.TruncatedHeader);
                    }

                    compositionTime = ReadSi24(rest);
                    rest = rest[Si24Length..];
                }

                frame = CreateFrame(owner, MediaKind.Video, codec, flags, timestamp, compositionTime, rest);
                break;
            case FlvVideoPacketType.CodedFramesX:
                frame = CreateFrame(owner, MediaKind.Video, codec, flags, timestamp, 0, rest);
                break;
            case FlvVideoPacketType.SequenceEnd:
                frame = CreateFrame(owner, MediaKind.Video, codec, flags | FrameFlags.EndOfSequence, timestamp, 0, []);
                break;
            default:
                // Multitrack/ModEx inside a multitrack header were rejected above.
                FlvThrow.Format(FlvError.InvalidPacketType);
                break;
        }

        return FlvDemuxStatus.Frame;
    }

    private static FlvDemuxStatus DemuxAudio(MediaBuffer? owner, long timestamp, ReadOnlySpan<byte> body, out MediaFrame frame, out string? unsupportedCodec)
    {
        frame = default;
        unsupportedCodec = null;
        var format = (FlvSoundFormat)(body[0] >> 4);
        switch (format)
        {
            case FlvSoundFormat.Aac:
                if (body.Length < LegacyAacHeaderLength)
                {
                    FlvThrow.Format(FlvError.TruncatedHeader);
                }

                var flags = (FlvAacPacketType)body[1] switch
                {
                    FlvAacPacketType.SequenceHeader => FrameFlags.Config,
                    FlvAacPacketType.Raw => FrameFlags.None,
                    _ => FlvThrow.Format<FrameFlags>(FlvError.InvalidPacketType),
                };
                frame = CreateFrame(owner, MediaKind.Audio, MediaCodec.Aac, flags, timestamp, 0, body[LegacyAacHeaderLength..]);
                return FlvDemuxStatus.Frame;
            case FlvSoundFormat.Mp3:
            case FlvSoundFormat.Mp3At8K:
                frame = CreateFrame(owner, MediaKind.Audio, MediaCodec.Mp3, FrameFlags.None, timestamp, 0, body[1..]);
                return FlvDemuxStatus.Frame;
            case FlvSoundFormat.ExHeader:
                return DemuxExAudio(owner, (FlvAudioPacketType)(body[0] & 0x0F), timestamp, body[1..], out frame, out unsupportedCodec);
            default:
                unsupportedCodec = GetLegacyAudioCodecName(format);
                return FlvDemuxStatus.UnsupportedCodec;
        }
    }

    private static FlvDemuxStatus DemuxExAudio(MediaBuffer? owner, FlvAudioPacketType packetType, long timestamp, ReadOnlySpan<byte> rest, out MediaFrame frame, out string? unsupportedCodec)
    {
        frame = default;
        unsupportedCodec = null;
        while (packetType == FlvAudioPacketType.ModEx)
        {
            rest = SkipModEx(rest, out var next);
            packetType = (FlvAudioPacketType)next;
        }

        var rawType = (byte)packetType;
        if (!TryReadTrack(ref rawType, (byte)FlvAudioPacketType.Multitrack, (byte)FlvAudioPacketType.ModEx, ref rest, out var fourCc))
        {
            return FlvDemuxStatus.Ignored;
        }

        packetType = (FlvAudioPacketType)rawType;

        FrameFlags flags;
        switch (packetType)
        {
            case FlvAudioPacketType.SequenceStart:
                flags = FrameFlags.Config;
                break;
            case FlvAudioPacketType.CodedFrames:
                flags = FrameFlags.None;
                break;
            case FlvAudioPacketType.SequenceEnd:
                flags = FrameFlags.EndOfSequence;
                rest = [];
                break;

            // Channel order/mapping for codecs that do not describe it themselves: nothing the model carries yet.
            case FlvAudioPacketType.MultichannelConfig:
                return FlvDemuxStatus.Ignored;
            default:
                return FlvThrow.Format<FlvDemuxStatus>(FlvError.InvalidPacketType);
        }

        if (!FlvFourCc.TryGetCodec(fourCc, MediaKind.Audio, out var codec, out _))
        {
            unsupportedCodec = GetUnknownFourCcName(fourCc);
            return FlvDemuxStatus.UnsupportedCodec;
        }

        frame = CreateFrame(owner, MediaKind.Audio, codec, flags, timestamp, 0, rest);
        return FlvDemuxStatus.Frame;
    }

    private static FlvDemuxStatus DemuxScript(MediaBuffer? owner, long timestamp, ReadOnlySpan<byte> body, out MediaFrame frame)
    {
        // RTMP publishers wrap metadata as "@setDataFrame", "onMetaData", {...}; FLV files carry
        // "onMetaData", {...}. The model keeps the unwrapped form.
        if (body.StartsWith(SetDataFrameString))
        {
            body = body[SetDataFrameString.Length..];
        }

        // What is left must start with the handler name, an AMF0 string, and hold all of it.
        if (body.Length < Amf0StringHeaderLength
            || body[0] != Amf0StringMarker
            || Amf0StringHeaderLength + BinaryPrimitives.ReadUInt16BigEndian(body[1..]) > body.Length)
        {
            FlvThrow.Format(FlvError.InvalidScriptData);
        }

        frame = CreateFrame(owner, MediaKind.Data, MediaCodec.Script, FrameFlags.None, timestamp, 0, body);
        return FlvDemuxStatus.Frame;
    }

    /// <summary>
    /// Skips one ModEx prefix and returns the packet type it modifies. The only defined modifier,
    /// TimestampOffsetNano, is a sub-millisecond offset the millisecond model cannot carry; others are unknown
    /// and skipped by their size, as the spec asks.
    /// </summary>
    private static ReadOnlySpan<byte> SkipModEx(ReadOnlySpan<byte> rest, out byte nextPacketType)
    {
        if (rest.IsEmpty)
        {
            FlvThrow.Format(FlvError.TruncatedHeader);
        }

        var position = 1;
        var size = rest[0] + 1;
        if (size == ModExEscapedSize)
        {
            if (rest.Length < 3)
            {
                FlvThrow.Format(FlvError.TruncatedHeader);
            }

            size = BinaryPrimitives.ReadUInt16BigEndian(rest[1..]) + 1;
            position = 3;
        }

        // The data, then one byte: UB[4] ModExType | UB[4] packet type.
        if (rest.Length < position + size + 1)
        {
            FlvThrow.Format(FlvError.TruncatedHeader);
        }

        nextPacketType = (byte)(rest[position + size] & 0x0F);
        return rest[(position + size + 1)..];
    }

    /// <summary>
    /// The track part of an Enhanced RTMP audio or video header: for a Multitrack packet, the packet type and
    /// track type byte, then the default track's FourCC (false when the default track is absent: the frame is
    /// ignored); otherwise the FourCC itself. <paramref name="packetType"/> becomes the real packet type.
    /// </summary>
    private static bool TryReadTrack(ref byte packetType, byte multitrack, byte modEx, ref ReadOnlySpan<byte> rest, out uint fourCc)
    {
        if (packetType != multitrack)
        {
            fourCc = ReadFourCc(ref rest);
            return true;
        }

        if (rest.IsEmpty)
        {
            FlvThrow.Format(FlvError.TruncatedHeader);
        }

        packetType = (byte)(rest[0] & 0x0F);
        if (packetType == multitrack || packetType == modEx)
        {
            FlvThrow.Format(FlvError.InvalidMultitrack);
        }

        return TrySelectDefaultTrack((FlvMultitrackType)(rest[0] >> 4), rest[1..], out fourCc, out rest);
    }

    private static bool TrySelectDefaultTrack(FlvMultitrackType type, ReadOnlySpan<byte> rest, out uint fourCc, out ReadOnlySpan<byte> trackBody)
    {
        fourCc = 0;
        trackBody = default;
        if (type > FlvMultitrackType.ManyTracksManyCodecs)
        {
            FlvThrow.Format(FlvError.InvalidMultitrack);
        }

        if (type != FlvMultitrackType.ManyTracksManyCodecs)
        {
            fourCc = ReadFourCc(ref rest);
        }

        if (type == FlvMultitrackType.OneTrack)
        {
            if (rest.IsEmpty)
            {
                FlvThrow.Format(FlvError.TruncatedHeader);
            }

            // UI8 track id; whatever its value, it is the only track.
            trackBody = rest[1..];
            return true;
        }

        while (!rest.IsEmpty)
        {
            var trackFourCc = type == FlvMultitrackType.ManyTracksManyCodecs ? ReadFourCc(ref rest) : fourCc;

            // UI8 track id, UI24 size of the track's data.
            if (rest.Length < 4)
            {
                FlvThrow.Format(FlvError.TruncatedHeader);
            }

            var trackId = rest[0];
            var size = (rest[1] << 16) | (rest[2] << 8) | rest[3];
            rest = rest[4..];
            if (size > rest.Length)
            {
                FlvThrow.Format(FlvError.InvalidMultitrack);
            }

            if (trackId == 0)
            {
                fourCc = trackFourCc;
                trackBody = rest[..size];
                return true;
            }

            rest = rest[size..];
        }

        return false;
    }

    private static uint ReadFourCc(ref ReadOnlySpan<byte> rest)
    {
        if (rest.Length < FourCcLength)
        {
            FlvThrow.Format(FlvError.TruncatedHeader);
        }

        var fourCc = BinaryPrimitives.ReadUInt32BigEndian(rest);
        rest = rest[FourCcLength..];
        return fourCc;
    }

    private static FrameFlags GetKeyframeFlags(FlvVideoFrameType frameType) => frameType switch
    {
        // A server-generated keyframe is still a random access point.
        FlvVideoFrameType.KeyFrame or FlvVideoFrameType.GeneratedKeyFrame => FrameFlags.Keyframe,
        FlvVideoFrameType.InterFrame or FlvVideoFrameType.DisposableInterFrame => FrameFlags.None,
        _ => FlvThrow.Format<FrameFlags>(FlvError.InvalidFrameType),
    };

    /// <summary>Reads a big-endian signed 24-bit integer.</summary>
    internal static int ReadSi24(ReadOnlySpan<byte> source) => ((source[0] << 24) | (source[1] << 16) | (source[2] << 8)) >> 8;

    // The payload shares the message's buffer when it lies within it (no copy); otherwise it is copied.
    private static MediaFrame CreateFrame(MediaBuffer? owner, MediaKind kind, MediaCodec codec, FrameFlags flags, long timestamp, int compositionTime, ReadOnlySpan<byte> payload)
    {
        var buffer = owner is not null && !payload.IsEmpty && owner.Span.Overlaps(payload, out var offset) && offset >= 0 && offset + payload.Length <= owner.Length
            ? owner.Slice(offset, payload.Length)
            : MediaBuffer.CopyOf(payload);
        return new(kind, codec, flags, timestamp, compositionTime, buffer);
    }

    private static string GetLegacyVideoCodecName(FlvVideoCodecId codecId) => codecId switch
    {
        FlvVideoCodecId.SorensonH263 => "Sorenson H.263 (FLV codec id 2)",
        FlvVideoCodecId.Screen => "Screen video (FLV codec id 3)",
        FlvVideoCodecId.On2Vp6 => "On2 VP6 (FLV codec id 4)",
        FlvVideoCodecId.On2Vp6Alpha => "On2 VP6 with alpha (FLV codec id 5)",
        FlvVideoCodecId.ScreenV2 => "Screen video v2 (FLV codec id 6)",
        (FlvVideoCodecId)13 => "FLV video codec id 13 (AV1 in some forks)",
        _ => "reserved FLV video codec id",
    };

    private static string GetLegacyAudioCodecName(FlvSoundFormat format) => format switch
    {
        FlvSoundFormat.LinearPcmPlatformEndian => "Linear PCM, platform endian (FLV sound format 0)",
        FlvSoundFormat.AdPcm => "ADPCM (FLV sound format 1)",
        FlvSoundFormat.LinearPcmLittleEndian => "Linear PCM, little endian (FLV sound format 3)",
        FlvSoundFormat.Nellymoser16KMono => "Nellymoser 16 kHz mono (FLV sound format 4)",
        FlvSoundFormat.Nellymoser8KMono => "Nellymoser 8 kHz mono (FLV sound format 5)",
        FlvSoundFormat.Nellymoser => "Nellymoser (FLV sound format 6)",
        FlvSoundFormat.G711ALaw => "G.711 A-law (FLV sound format 7)",
        FlvSoundFormat.G711MuLaw => "G.711 mu-law (FLV sound format 8)",
        FlvSoundFormat.Speex => "Speex (FLV sound format 11)",
        FlvSoundFormat.DeviceSpecific => "device-specific sound (FLV sound format 15)",
        _ => "reserved FLV sound format",
    };

    /// <summary>"FourCC 'xyz1'" for the log; cached for the last one seen so a publisher repeating an unknown codec
    /// does not allocate per message.</summary>
    private static string GetUnknownFourCcName(uint fourCc)
    {
        var last = s_lastUnknownFourCc;
        if (last is not null && last.Value == fourCc)
        {
            return last.Name;
        }

        var name = string.Create(13, fourCc, static (chars, value) =>
        {
            "FourCC '".CopyTo(chars);
            for (var i = 0; i < 4; i++)
            {
                var b = (byte)(value >> (24 - (8 * i)));
                chars[8 + i] = b is >= 0x20 and < 0x7F ? (char)b : '?';
            }

            chars[12] = '\'';
        });
        s_lastUnknownFourCc = new UnknownFourCc(fourCc, name);
        return name;
    }

    private sealed record UnknownFourCc(uint Value, string Name);
}
