using System.Buffers;
using MediaServer.Core.Codecs.Hevc;
using MediaServer.Core.Media;
using MediaServer.Core.Mpegts;
using MediaServer.Tests.Infrastructure;

namespace MediaServer.Tests.Mpegts;

/// <summary>Frames and expectations shared by the TS muxer tests.</summary>
internal static class TsTestStreams
{
    public static readonly byte[] Sps = MediaTestData.Hex("6764000dacd94141fb011000000300100000030320f1429960");
    public static readonly byte[] Pps = MediaTestData.Hex("68ebe3cb22c0");
    public static readonly byte[] H264Aud = [0x09, 0xF0];

    public static readonly byte[] HevcVps = [0x40, 0x01, 0x0C, 0x01, 0xFF];
    public static readonly byte[] HevcSps = [0x42, 0x01, 0x01, 0x01, 0x60];
    public static readonly byte[] HevcPps = [0x44, 0x01, 0xC1, 0x72];
    public static readonly byte[] HevcAud = [0x46, 0x01, 0x50];

    public static MediaFrame AvcConfig() =>
        MediaTestData.Frame(MediaKind.Video, MediaCodec.H264, FrameFlags.Config | FrameFlags.Keyframe, 0, 0, MediaTestData.Hex(MediaTestData.X264HighAvcC));

    public static MediaFrame HevcConfig()
    {
        var record = new HevcDecoderConfigurationRecord
        {
            GeneralProfileIdc = 1,
            GeneralLevelIdc = 60,
            ChromaFormat = 1,
            NumTemporalLayers = 1,
            Arrays =
            [
                new HevcNalArray(true, HevcNalUnitType.VideoParameterSet, [HevcVps]),
                new HevcNalArray(true, HevcNalUnitType.SequenceParameterSet, [HevcSps]),
                new HevcNalArray(true, HevcNalUnitType.PictureParameterSet, [HevcPps]),
            ],
        };
        var output = new ArrayBufferWriter<byte>();
        record.Write(output);
        return MediaTestData.Frame(MediaKind.Video, MediaCodec.Hevc, FrameFlags.Config | FrameFlags.Keyframe, 0, 0, output.WrittenSpan);
    }

    /// <summary>AAC LC 44100 Hz stereo.</summary>
    public static MediaFrame AacConfig() => MediaTestData.Frame(MediaKind.Audio, MediaCodec.Aac, FrameFlags.Config, 0, 0, [0x12, 0x10]);

    public static MediaFrame Video(MediaCodec codec, long dts, int cts, bool key, params byte[][] nals) =>
        MediaTestData.Frame(MediaKind.Video, codec, key ? FrameFlags.Keyframe : FrameFlags.None, dts, cts, MediaTestData.Avcc(nals));

    public static MediaFrame Aac(long pts, byte[] raw) => MediaTestData.Frame(MediaKind.Audio, MediaCodec.Aac, FrameFlags.None, pts, 0, raw);

    public static byte[] Nal(byte header, int length, int seed)
    {
        var nal = new byte[length];
        new Random(seed).NextBytes(nal);
        nal[0] = header;
        return nal;
    }

    /// <summary>ADTS header for LC 44100 stereo (the <see cref="AacConfig"/>) built by hand, independent of AdtsHeader.</summary>
    public static byte[] Adts(byte[] raw)
    {
        var length = raw.Length + 7;
        byte[] header = [0xFF, 0xF1, 0x50, (byte)(0x80 | (length >> 11)), (byte)(length >> 3), (byte)(((length & 7) << 5) | 0x1F), 0xFC];
        return [.. header, .. raw];
    }

    /// <summary>Writes the frames (tables before the first media frame), releases them, returns the bytes.</summary>
    public static byte[] Mux(TsMuxer muxer, params MediaFrame[] frames)
    {
        var output = new ArrayBufferWriter<byte>();
        var tables = false;
        foreach (var frame in frames)
        {
            if (!tables && !frame.IsConfig)
            {
                muxer.BeginSegment(output);
                tables = true;
            }

            muxer.Write(frame, output);
            frame.Payload.Release();
        }

        muxer.Flush(output);
        return output.WrittenSpan.ToArray();
    }

    public static long Clock(long ms) => ((ms * 90) + 126_000) & ((1L << 33) - 1);
}
