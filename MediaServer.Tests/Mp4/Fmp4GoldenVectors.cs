namespace MediaServer.Tests.Mp4;

/// <summary>
/// Exact bytes of our fMP4 output, worked out field by field from ISO/IEC 14496-12 (and -14/-15 for the sample
/// entries), independent of the muxer; the end-to-end tests show ffmpeg reads the same layout.
/// </summary>
internal static class Fmp4GoldenVectors
{
    private const string Matrix = "00010000 00000000 00000000 00000000 00010000 00000000 00000000 00000000 40000000";

    /// <summary>
    /// Init segment for <see cref="Infrastructure.MediaTestData.X264HighAvcC"/> (320x240) and AAC LC 44100 Hz stereo
    /// (AudioSpecificConfig 12 10).
    /// </summary>
    public static readonly string AvcAacInit =
        // ftyp (24): major 'iso6', minor 0, compatible 'iso6' 'mp41'
        "00000018 66747970 | 69736f36 00000000 | 69736f36 6d703431"
        // moov (1081)
        + "00000439 6d6f6f76"
        // mvhd (108) v0: creation, modification 0 | timescale 1000 | duration 0 | rate 1.0 | volume 1.0 + 10 reserved
        + "  0000006c 6d766864 00000000 | 00000000 00000000 000003e8 00000000 | 00010000 0100 0000 0000000000000000"
        + Matrix + " 000000000000000000000000000000000000000000000000 | 00000003" // pre_defined × 6 | next_track_ID 3
        // trak (481), video
        + "  000001e1 7472616b"
        // tkhd (92) v0 flags 3: times 0 | track 1 | reserved | duration 0 | reserved 8 | layer, group, volume 0, reserved
        + "    0000005c 746b6864 00000003 | 00000000 00000000 00000001 00000000 00000000 | 0000000000000000 | 0000 0000 0000 0000"
        + Matrix + " | 01400000 00f00000" // width 320.0, height 240.0
        // mdia (381)
        + "    0000017d 6d646961"
        // mdhd (32) v0: times 0 | timescale 90000 | duration 0 | 'und' | pre_defined
        + "      00000020 6d646864 00000000 | 00000000 00000000 00015f90 00000000 | 55c4 0000"
        // hdlr (45): pre_defined | 'vide' | reserved 12 | "VideoHandler\0"
        + "      0000002d 68646c72 00000000 | 00000000 76696465 000000000000000000000000 | 566964656f48616e646c657200"
        // minf (296)
        + "      00000128 6d696e66"
        // vmhd (20) flags 1: graphicsmode 0, opcolor 0
        + "        00000014 766d6864 00000001 | 0000 000000000000"
        // dinf (36) / dref (28) entry_count 1 / 'url ' (12) flags 1 = self-contained
        + "        00000024 64696e66 0000001c 64726566 00000000 00000001 | 0000000c 75726c20 00000001"
        // stbl (232)
        + "        000000e8 7374626c"
        // stsd (156) entry_count 1
        + "          0000009c 73747364 00000000 00000001"
        // avc1 (140): reserved 6 | data_reference_index 1 | pre_defined, reserved, pre_defined 12 | 320 x 240
        // | 72 dpi × 2 | reserved | frame_count 1 | compressorname (32 zero) | depth 0x18 | pre_defined -1
        + "            0000008c 61766331 000000000000 0001 | 0000 0000 000000000000000000000000 | 0140 00f0"
        + "            00480000 00480000 00000000 0001 | " + new string('0', 64) + " | 0018 ffff"
        // avcC (54): the 46-byte record as received (6 header, 2 + 25 SPS, 1 + 2 + 6 PPS, 4 extension)
        + "              00000036 61766343 " + Infrastructure.MediaTestData.X264HighAvcC
        // stts, stsc (16) entry_count 0 | stsz (20) sample_size 0, sample_count 0 | stco (16) entry_count 0
        + "          00000010 73747473 00000000 00000000 | 00000010 73747363 00000000 00000000"
        + "          00000014 7374737a 00000000 00000000 00000000 | 00000010 7374636f 00000000 00000000"
        // trak (412), audio
        + "  0000019c 7472616b"
        // tkhd (92): track 2, volume 1.0, width/height 0
        + "    0000005c 746b6864 00000003 | 00000000 00000000 00000002 00000000 00000000 | 0000000000000000 | 0000 0000 0100 0000"
        + Matrix + " | 00000000 00000000"
        // mdia (312) / mdhd (32): timescale 44100
        + "    00000138 6d646961"
        + "      00000020 6d646864 00000000 | 00000000 00000000 0000ac44 00000000 | 55c4 0000"
        // hdlr (45): 'soun' "SoundHandler\0"
        + "      0000002d 68646c72 00000000 | 00000000 736f756e 000000000000000000000000 | 536f756e6448616e646c657200"
        // minf (227) / smhd (16): balance 0, reserved
        + "      000000e3 6d696e66"
        + "        00000010 736d6864 00000000 | 0000 0000"
        + "        00000024 64696e66 0000001c 64726566 00000000 00000001 | 0000000c 75726c20 00000001"
        // stbl (167) / stsd (91)
        + "        000000a7 7374626c"
        + "          0000005b 73747364 00000000 00000001"
        // mp4a (75): reserved 6 | data_reference_index 1 | reserved 8 | channels 2 | samplesize 16 | pre_defined,
        // reserved | samplerate 44100.0
        + "            0000004b 6d703461 000000000000 0001 | 0000000000000000 | 0002 0010 0000 0000 | ac440000"
        // esds (39) v0 | ES_Descriptor tag 3 size 25: ES_ID 0, flags 0
        //   DecoderConfigDescriptor tag 4 size 17: objectTypeIndication 0x40, streamType 5 << 2 | reserved 1,
        //   bufferSizeDB 0, maxBitrate 0, avgBitrate 0 | DecSpecificInfo tag 5 size 2: 12 10
        //   SLConfigDescriptor tag 6 size 1: predefined 2
        + "              00000027 65736473 00000000 | 03 19 0000 00 | 04 11 40 15 000000 00000000 00000000 | 05 02 1210 | 06 01 02"
        + "          00000010 73747473 00000000 00000000 | 00000010 73747363 00000000 00000000"
        + "          00000014 7374737a 00000000 00000000 00000000 | 00000010 7374636f 00000000 00000000"
        // mvex (72) / trex (32) × 2: track, default_sample_description_index 1, duration, size, flags 0
        + "  00000048 6d766578"
        + "    00000020 74726578 00000000 | 00000001 00000001 00000000 00000000 00000000"
        + "    00000020 74726578 00000000 | 00000002 00000001 00000000 00000000 00000000";

    /// <summary>
    /// The fragment of <c>Fmp4MuxerTests.Flush_ThreeVideoTwoAudioSamples_GoldenFragment</c>: video I (DTS 0, CTS 0),
    /// P (DTS 40, CTS +40), B (DTS 80, CTS −40); AAC at 0 and 23 ms (44100 Hz: ticks 0 and 1014).
    /// </summary>
    public static readonly string AvcAacFragment =
        // moof (224) / mfhd (16) sequence_number 1
        "000000e0 6d6f6f66"
        + "  00000010 6d666864 00000000 00000001"
        // traf (112): tfhd (16) flags 0x020000 default-base-is-moof, track 1 | tfdt (20) v1 baseMediaDecodeTime 0
        + "  00000070 74726166"
        + "    00000010 74666864 00020000 00000001"
        + "    00000014 74666474 01000000 0000000000000000"
        // trun (68) v1 flags 0xF01: count 3 | data_offset 232 (moof 224 + mdat header 8)
        // { duration, size, flags, composition offset }: 3600 7 sync 0 | 3600 6 non-sync +3600 | 3600 (the previous
        // delta) 6 non-sync −3600
        + "    00000044 7472756e 01000f01 | 00000003 000000e8"
        + "      00000e10 00000007 02000000 00000000"
        + "      00000e10 00000006 01010000 00000e10"
        + "      00000e10 00000006 01010000 fffff1f0"
        // traf (88): track 2 | tfdt 0 | trun (44) v0 flags 0x701: count 2 | data_offset 251 (232 + 19 video bytes)
        // { duration, size, flags }: 1014 4 sync | 1014 (the previous delta) 3 sync
        + "  00000058 74726166"
        + "    00000010 74666864 00020000 00000002"
        + "    00000014 74666474 01000000 0000000000000000"
        + "    0000002c 7472756e 00000701 | 00000002 000000fb"
        + "      000003f6 00000004 02000000"
        + "      000003f6 00000003 02000000"
        // mdat (34): the three video samples (AVCC, 4-byte lengths), then the two AAC frames
        + "00000022 6d646174"
        + "  00000003 658884 | 00000002 419a | 00000002 019e"
        + "  21004990 | 21004a";
}
