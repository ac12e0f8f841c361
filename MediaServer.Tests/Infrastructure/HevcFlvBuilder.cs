using System.Buffers;
using System.Globalization;
using MediaServer.Core.Buffers;
using MediaServer.Core.Codecs;
using MediaServer.Core.Codecs.Hevc;
using MediaServer.Core.Flv;
using MediaServer.Core.Media;

namespace MediaServer.Tests.Infrastructure;

/// <summary>One HEVC access unit of an Annex B stream, with the timing the encoder gave it.</summary>
/// <param name="NalUnits">The NAL units in stream order (parameter sets included).</param>
/// <param name="Dts">Decode time, ms, the first one 0.</param>
/// <param name="Pts">Presentation time, ms.</param>
/// <param name="Keyframe">ffprobe flags the packet K (and it holds an IRAP picture).</param>
public sealed record HevcAccessUnit(IReadOnlyList<byte[]> NalUnits, long Dts, long Pts, bool Keyframe)
{
    /// <summary>The composition time an FLV tag carries: PTS − DTS.</summary>
    public int CompositionTime => checked((int)(Pts - Dts));
}

/// <summary>
/// Builds an HEVC + AAC FLV (Enhanced RTMP, FourCC <c>hvc1</c>) with our own code, for ffmpeg 5.1 which can encode
/// HEVC (libx265) but not mux it into FLV (that arrived in 6.1).
/// </summary>
/// <remarks>
/// <list type="number">
/// <item>ffmpeg encodes testsrc with libx265 (B-frames, so composition times are non-zero) into an .mp4: the
/// container keeps each packet's PTS and DTS. <c>-c copy -f hevc</c> turns that into the Annex B elementary stream
/// (x265's NAL units with start codes, VPS/SPS/PPS before every IRAP picture).</item>
/// <item>Our <see cref="AnnexBNalReader"/> splits the elementary stream into NAL units, grouped into access units by
/// H.265 §7.4.2.4.4; the n-th access unit takes the n-th video packet's PTS/DTS from <c>ffprobe -show_packets</c>
/// on the .mp4 (both are in decode order), in integer time-base units, shifted so the first DTS is 0, then ms.</item>
/// <item>The sequence start is <see cref="HevcDecoderConfigurationRecord.FromParameterSets"/> of the first
/// VPS/SPS/PPS; every access unit becomes one frame of 4-byte length-prefixed NAL units without the parameter sets
/// (the record carries them, as ffmpeg 6.1 and OBS publish with a global header).</item>
/// <item>AAC comes from an ffmpeg FLV (sequence header + raw frames, timestamps from 0), merged by timestamp,
/// video first on a tie (as ffmpeg interleaves by stream index); written by our <see cref="FlvFileWriter"/>, so
/// <see cref="FlvMuxer"/> chooses CodedFrames (SI24 CTS) or CodedFramesX.</item>
/// </list>
/// </remarks>
public static class HevcFlvBuilder
{
    /// <summary>Access units of an Annex B stream, timed from the .mp4 it was copied out of.</summary>
    public static List<HevcAccessUnit> ReadAccessUnits(string annexBPath, string timingMp4Path)
    {
        var units = SplitAccessUnits(File.ReadAllBytes(annexBPath));
        var timing = ReadVideoPacketTiming(timingMp4Path);
        if (units.Count != timing.Count)
        {
            throw new InvalidDataException($"{units.Count} access units in {annexBPath} but {timing.Count} video packets in {timingMp4Path}.");
        }

        var result = new List<HevcAccessUnit>(units.Count);
        for (var i = 0; i < units.Count; i++)
        {
            var irap = units[i].Any(n => HevcNal.IsIrap(HevcNal.GetType(n[0])));
            if (irap != timing[i].Key)
            {
                throw new InvalidDataException($"Access unit {i}: IRAP {irap} but ffprobe keyframe flag {timing[i].Key}.");
            }

            result.Add(new HevcAccessUnit(units[i], timing[i].Dts, timing[i].Pts, timing[i].Key));
        }

        return result;
    }

    /// <summary>Groups NAL units into access units (H.265 §7.4.2.4.4): after a picture's VCL units, an AUD, a parameter
    /// set, a prefix SEI, a reserved type 41..44 or 48..55, or a VCL unit with first_slice_segment_in_pic_flag starts
    /// the next one.</summary>
    public static List<List<byte[]>> SplitAccessUnits(ReadOnlySpan<byte> annexB)
    {
        var units = new List<List<byte[]>>();
        var current = new List<byte[]>();
        var sawVcl = false;
        var reader = new AnnexBNalReader(annexB);
        while (reader.TryRead(out var nal))
        {
            var type = (int)HevcNal.GetType(nal[0]);
            var vcl = type < 32;
            var firstSlice = vcl && nal.Length > 2 && (nal[2] & 0x80) != 0;
            var startsNext = sawVcl && (firstSlice || type is (>= 32 and <= 35) or 39 or (>= 41 and <= 44) or (>= 48 and <= 55));
            if (startsNext)
            {
                units.Add(current);
                current = [];
                sawVcl = false;
            }

            current.Add(nal.ToArray());
            sawVcl |= vcl;
        }

        if (current.Count > 0)
        {
            units.Add(current);
        }

        return units;
    }

    /// <summary>Writes the FLV: header, HEVC sequence start and AAC sequence header at 0, then the frames by timestamp.</summary>
    /// <param name="video">The access units in decode order.</param>
    /// <param name="aacFlvPath">An ffmpeg FLV with AAC only.</param>
    public static byte[] Build(IReadOnlyList<HevcAccessUnit> video, string aacFlvPath)
    {
        var first = video[0].NalUnits;
        var record = HevcDecoderConfigurationRecord.FromParameterSets(
            first.First(n => HevcNal.GetType(n[0]) == HevcNalUnitType.VideoParameterSet),
            first.First(n => HevcNal.GetType(n[0]) == HevcNalUnitType.SequenceParameterSet),
            first.First(n => HevcNal.GetType(n[0]) == HevcNalUnitType.PictureParameterSet));
        var hvcC = new ArrayBufferWriter<byte>();
        record.Write(hvcC);

        var audio = FlvClip.Load(aacFlvPath);
        var frames = new List<MediaFrame>
        {
            new(MediaKind.Video, MediaCodec.Hevc, FrameFlags.Config | FrameFlags.Keyframe, 0, 0, MediaBuffer.CopyOf(hvcC.WrittenSpan)),
        };
        var audioConfig = audio.Single(t => t.IsSequenceHeader);
        frames.Add(new(MediaKind.Audio, MediaCodec.Aac, FrameFlags.Config, 0, 0, MediaBuffer.CopyOf(audioConfig.Body.AsSpan(2))));

        var media = new List<(long Dts, int Order, MediaFrame Frame)>();
        foreach (var unit in video)
        {
            var payload = MediaTestData.Avcc([.. unit.NalUnits.Where(n => (int)HevcNal.GetType(n[0]) is < 32 or > 34)]);
            media.Add((unit.Dts, media.Count, new MediaFrame(MediaKind.Video, MediaCodec.Hevc, unit.Keyframe ? FrameFlags.Keyframe : FrameFlags.None,
                unit.Dts, unit.CompositionTime, MediaBuffer.CopyOf(payload))));
        }

        foreach (var tag in audio.Where(t => !t.IsSequenceHeader))
        {
            // Legacy AAC: 0xAF | AACPacketType 1 | raw frame.
            media.Add((tag.Timestamp, media.Count, new MediaFrame(MediaKind.Audio, MediaCodec.Aac, FrameFlags.None, tag.Timestamp, 0, MediaBuffer.CopyOf(tag.Body.AsSpan(2)))));
        }

        frames.AddRange(media.OrderBy(m => m.Dts).ThenBy(m => m.Order).Select(m => m.Frame));
        var output = new ArrayBufferWriter<byte>();
        FlvFileWriter.WriteHeader(output, hasAudio: true, hasVideo: true);
        foreach (var frame in frames)
        {
            FlvFileWriter.WriteFrame(output, frame);
            frame.Payload.Release();
        }

        return output.WrittenSpan.ToArray();
    }

    private static List<(long Dts, long Pts, bool Key)> ReadVideoPacketTiming(string mp4Path)
    {
        var (timeBaseCode, timeBaseOut, timeBaseErr) = MediaTestData.Run("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=time_base", "-of", "csv=p=0", mp4Path);
        var (packetsCode, packetsOut, packetsErr) = MediaTestData.Run("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts,dts,flags", "-of", "csv=p=0", mp4Path);
        if (timeBaseCode != 0 || packetsCode != 0 || timeBaseErr.Length + packetsErr.Length > 0)
        {
            throw new InvalidOperationException($"ffprobe failed on {mp4Path}: {timeBaseErr}{packetsErr}");
        }

        var timeBase = timeBaseOut.Trim().Split('/');
        var (numerator, denominator) = (long.Parse(timeBase[0], CultureInfo.InvariantCulture), long.Parse(timeBase[1], CultureInfo.InvariantCulture));
        var packets = packetsOut.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split(','))
            .Select(f => (Pts: long.Parse(f[0], CultureInfo.InvariantCulture), Dts: long.Parse(f[1], CultureInfo.InvariantCulture), Key: f[2].Contains('K', StringComparison.Ordinal)))
            .ToList();

        // Shift in time-base units (exact), then round each time to ms once: PTS − DTS is then the difference of the
        // two rounded times, so DTS + CTS gives back the rounded PTS.
        var shift = -packets.Min(p => p.Dts);
        long Ms(long ticks) => (long)Math.Round((ticks + shift) * 1000.0 * numerator / denominator, MidpointRounding.AwayFromZero);
        return [.. packets.Select(p => (Ms(p.Dts), Ms(p.Pts), p.Key))];
    }
}
