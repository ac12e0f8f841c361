using MediaServer.Core.Flv;
using MediaServer.Core.Media;
using static MediaServer.Tests.Infrastructure.Hex;

namespace MediaServer.Tests.Flv;

/// <summary>One tag body and the frame it means.</summary>
/// <param name="Canonical">True when <see cref="FlvMuxer"/> writes exactly this body for the frame.</param>
public sealed record FlvGoldenVector(
    string Name, FlvTagType Type, string Body, MediaKind Kind, MediaCodec Codec, FrameFlags Flags, int CompositionTime, string Payload, bool Canonical);

/// <summary>Golden tag bodies, commented field by field (FLV spec v10.1 §E.4; enhanced-rtmp v2).</summary>
internal static class FlvGoldenVectors
{
    private const FlvTagType V = FlvTagType.Video;
    private const FlvTagType A = FlvTagType.Audio;
    private const FrameFlags Key = FrameFlags.Keyframe;
    private const FrameFlags Config = FrameFlags.Config;
    private const FrameFlags Eos = FrameFlags.EndOfSequence;

    private static readonly string Hvc1 = Ascii("hvc1");
    private static readonly string Avc1 = Ascii("avc1");
    private static readonly string Av01 = Ascii("av01");
    private static readonly string Vp09 = Ascii("vp09");
    private static readonly string Opus = Ascii("Opus");
    private static readonly string Flac = Ascii("fLaC");
    private static readonly string Ac3 = Ascii("ac-3");
    private static readonly string Eac3 = Ascii("ec-3");
    private static readonly string Mp4a = Ascii("mp4a");
    private static readonly string Mp3 = Ascii(".mp3");

    // AVCDecoderConfigurationRecord head: version 1, profile 100, compat 0, level 31, lengthSize 4, 1 SPS (empty here).
    private const string AvcRecord = "01 64 00 1F FF E1";

    // AMF0 "onMetaData" then ECMA array with 0 entries and the object end marker.
    private static readonly string OnMetaData = "02 000A " + Ascii("onMetaData") + " 08 00000000 000009";

    public static IEnumerable<FlvGoldenVector> All { get; } =
    [
        // ---- Legacy video: UB[4] frame type | UB[4] codec id | UI8 AVCPacketType | SI24 CTS | data
        new("H264 sequence header", V, "17 | 00 | 000000 | " + AvcRecord, MediaKind.Video, MediaCodec.H264, Key | Config, 0, AvcRecord, true),
        new("H264 keyframe NALU, CTS 80", V, "17 | 01 | 000050 | 00000002 6588", MediaKind.Video, MediaCodec.H264, Key, 80, "00000002 6588", true),
        new("H264 inter NALU, CTS -40", V, "27 | 01 | FFFFD8 | 00000002 419A", MediaKind.Video, MediaCodec.H264, FrameFlags.None, -40, "00000002 419A", true),
        new("H264 disposable inter, CTS max", V, "37 | 01 | 7FFFFF | 01", MediaKind.Video, MediaCodec.H264, FrameFlags.None, 0x7FFFFF, "01", false),
        new("H264 generated keyframe, CTS min", V, "47 | 01 | 800000 | 01", MediaKind.Video, MediaCodec.H264, Key, -0x800000, "01", false),
        new("H264 end of sequence", V, "17 | 02 | 000000", MediaKind.Video, MediaCodec.H264, Key | Eos, 0, "", true),
        new("Legacy HEVC (codec id 12) sequence header", V, "1C | 00 | 000000 | 01 01 60", MediaKind.Video, MediaCodec.Hevc, Key | Config, 0, "01 01 60", false),
        new("Legacy HEVC NALU, CTS 33", V, "2C | 01 | 000021 | 00000003 020100", MediaKind.Video, MediaCodec.Hevc, FrameFlags.None, 33, "00000003 020100", false),

        // ---- Enhanced video: UB[1] 1 | UB[3] frame type | UB[4] VideoPacketType | FOURCC | ...
        new("HEVC SequenceStart", V, "90 | " + Hvc1 + " | 01 01 60", MediaKind.Video, MediaCodec.Hevc, Key | Config, 0, "01 01 60", true),
        new("HEVC CodedFrames, CTS 33", V, "91 | " + Hvc1 + " | 000021 | 00000003 260101", MediaKind.Video, MediaCodec.Hevc, Key, 33, "00000003 260101", true),
        new("HEVC CodedFrames, CTS -33", V, "A1 | " + Hvc1 + " | FFFFDF | 00000003 020100", MediaKind.Video, MediaCodec.Hevc, FrameFlags.None, -33, "00000003 020100", true),
        new("HEVC CodedFramesX (CTS 0 implied)", V, "A3 | " + Hvc1 + " | 00000003 020100", MediaKind.Video, MediaCodec.Hevc, FrameFlags.None, 0, "00000003 020100", true),
        new("HEVC SequenceEnd", V, "92 | " + Hvc1, MediaKind.Video, MediaCodec.Hevc, Key | Eos, 0, "", true),
        new("AVC via FourCC, CodedFrames CTS -16", V, "A1 | " + Avc1 + " | FFFFF0 | 00000001 41", MediaKind.Video, MediaCodec.H264, FrameFlags.None, -16, "00000001 41", false),
        new("AVC via FourCC, SequenceStart", V, "90 | " + Avc1 + " | " + AvcRecord, MediaKind.Video, MediaCodec.H264, Key | Config, 0, AvcRecord, false),
        new("AV1 SequenceStart", V, "90 | " + Av01 + " | 81 00 0C 00", MediaKind.Video, MediaCodec.Av1, Key | Config, 0, "81 00 0C 00", true),
        new("AV1 CodedFrames (no CTS field)", V, "A1 | " + Av01 + " | 12 00 32", MediaKind.Video, MediaCodec.Av1, FrameFlags.None, 0, "12 00 32", true),
        new("AV1 CodedFramesX", V, "93 | " + Av01 + " | 12 00", MediaKind.Video, MediaCodec.Av1, Key, 0, "12 00", false),
        new("VP9 SequenceStart", V, "90 | " + Vp09 + " | 01 00 00 00", MediaKind.Video, MediaCodec.Vp9, Key | Config, 0, "01 00 00 00", true),
        new("VP9 keyframe CodedFrames", V, "91 | " + Vp09 + " | 82 49 83 42", MediaKind.Video, MediaCodec.Vp9, Key, 0, "82 49 83 42", true),
        new("VP9 SequenceEnd", V, "A2 | " + Vp09, MediaKind.Video, MediaCodec.Vp9, Eos, 0, "", true),

        // ModEx: UI8 size-1 (2 → 3 bytes) | data | UB[4] ModExType 0 (TimestampOffsetNano) | UB[4] next packet type 1
        new("ModEx then HEVC CodedFrames", V, "97 | 02 | 000102 | 01 | " + Hvc1 + " | 000010 | AABB", MediaKind.Video, MediaCodec.Hevc, Key, 16, "AABB", false),

        // ModEx with escaped size: UI8 0xFF → UI16 size-1 (0x0000 → 1 byte) | data | 03 → CodedFramesX
        new("ModEx with UI16 size", V, "A7 | FF | 0000 | 55 | 03 | " + Hvc1 + " | CC", MediaKind.Video, MediaCodec.Hevc, FrameFlags.None, 0, "CC", false),

        // Multitrack: UB[4] AvMultitrackType | UB[4] packet type | FOURCC | UI8 track id | (UI24 size) | body
        new("Multitrack OneTrack HEVC CodedFrames", V, "96 | 01 | " + Hvc1 + " | 00 | 000008 | 1122", MediaKind.Video, MediaCodec.Hevc, Key, 8, "1122", false),
        new("Multitrack ManyTracks picks track 0", V, "96 | 13 | " + Av01 + " | 01 000002 AAAA | 00 000002 BBBB", MediaKind.Video, MediaCodec.Av1, Key, 0, "BBBB", false),
        new("Multitrack ManyTracksManyCodecs picks track 0", V, "96 | 20 | " + Vp09 + " 01 000001 11 | " + Hvc1 + " 00 000002 2233", MediaKind.Video, MediaCodec.Hevc, Key | Config, 0, "2233", false),

        // ---- Legacy audio: UB[4] SoundFormat | UB[2] rate | UB[1] size | UB[1] type | (AAC: UI8 AACPacketType) | data
        new("AAC AudioSpecificConfig", A, "AF | 00 | 1210", MediaKind.Audio, MediaCodec.Aac, Config, 0, "1210", true),
        new("AAC raw frame", A, "AF | 01 | 211B 8000", MediaKind.Audio, MediaCodec.Aac, FrameFlags.None, 0, "211B 8000", true),
        new("AAC with other rate/size/type bits", A, "A2 | 01 | 21", MediaKind.Audio, MediaCodec.Aac, FrameFlags.None, 0, "21", false),
        new("MP3 frame", A, "2F | FFFB 9064", MediaKind.Audio, MediaCodec.Mp3, FrameFlags.None, 0, "FFFB 9064", true),
        new("MP3 8 kHz frame", A, "E2 | FFF3 1064", MediaKind.Audio, MediaCodec.Mp3, FrameFlags.None, 0, "FFF3 1064", false),

        // ---- Enhanced audio: UB[4] 9 | UB[4] AudioPacketType | FOURCC | data
        new("Opus SequenceStart (OpusHead)", A, "90 | " + Opus + " | " + Ascii("OpusHead") + " 01 02", MediaKind.Audio, MediaCodec.Opus, Config, 0, Ascii("OpusHead") + "0102", true),
        new("Opus CodedFrames", A, "91 | " + Opus + " | FC FF FE", MediaKind.Audio, MediaCodec.Opus, FrameFlags.None, 0, "FC FF FE", true),
        new("Opus SequenceEnd", A, "92 | " + Opus, MediaKind.Audio, MediaCodec.Opus, Eos, 0, "", true),
        new("FLAC SequenceStart (STREAMINFO)", A, "90 | " + Flac + " | 1000 1000", MediaKind.Audio, MediaCodec.Flac, Config, 0, "1000 1000", true),
        new("FLAC CodedFrames", A, "91 | " + Flac + " | FFF8 6908", MediaKind.Audio, MediaCodec.Flac, FrameFlags.None, 0, "FFF8 6908", true),
        new("AC-3 CodedFrames", A, "91 | " + Ac3 + " | 0B77 0102", MediaKind.Audio, MediaCodec.Ac3, FrameFlags.None, 0, "0B77 0102", true),
        new("E-AC-3 CodedFrames", A, "91 | " + Eac3 + " | 0B77 0304", MediaKind.Audio, MediaCodec.Eac3, FrameFlags.None, 0, "0B77 0304", true),
        new("AAC via FourCC, SequenceStart", A, "90 | " + Mp4a + " | 1190", MediaKind.Audio, MediaCodec.Aac, Config, 0, "1190", false),
        new("AAC SequenceEnd (Enhanced only)", A, "92 | " + Mp4a, MediaKind.Audio, MediaCodec.Aac, Eos, 0, "", true),
        new("MP3 via FourCC, CodedFrames", A, "91 | " + Mp3 + " | FFFB", MediaKind.Audio, MediaCodec.Mp3, FrameFlags.None, 0, "FFFB", false),
        new("Audio ModEx then Opus CodedFrames", A, "97 | 00 | 05 | 01 | " + Opus + " | FC", MediaKind.Audio, MediaCodec.Opus, FrameFlags.None, 0, "FC", false),
        new("Audio Multitrack OneTrack Opus", A, "95 | 01 | " + Opus + " | 00 | FC01", MediaKind.Audio, MediaCodec.Opus, FrameFlags.None, 0, "FC01", false),

        // ---- Script data: [AMF0 string "@setDataFrame"] AMF0 string name, values
        new("Script with @setDataFrame", FlvTagType.Script, "02 000D " + Ascii("@setDataFrame") + " | " + OnMetaData, MediaKind.Data, MediaCodec.Script, FrameFlags.None, 0, OnMetaData, false),
        new("Script onMetaData", FlvTagType.Script, OnMetaData, MediaKind.Data, MediaCodec.Script, FrameFlags.None, 0, OnMetaData, true),
    ];
}
