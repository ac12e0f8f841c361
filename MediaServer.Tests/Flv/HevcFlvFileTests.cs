using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using MediaServer.Core.Codecs;
using MediaServer.Core.Codecs.Hevc;
using MediaServer.Core.Flv;
using MediaServer.Core.Media;
using MediaServer.Tests.Infrastructure;

namespace MediaServer.Tests.Flv;

/// <summary>
/// The HEVC + AAC FLV the suite publishes (<see cref="TestMedia.HevcAacFlv"/>: x265's Annex B stream through our
/// <see cref="AnnexBNalReader"/>, <see cref="HevcDecoderConfigurationRecord.FromParameterSets"/> and
/// <see cref="FlvFileWriter"/>) against the .mp4 ffmpeg wrote of the same encode, read independently: its hvcC box,
/// its packets' PTS/DTS by ffprobe, its samples' bytes.
/// </summary>
public class HevcFlvFileTests
{
    private sealed record Tag(FlvTagType Type, long Timestamp, byte[] Body, MediaFrame Frame);

    private sealed record Mp4Packet(long Dts, long Pts, bool Key, byte[] Data);

    private static List<Tag> ReadFlv()
    {
        Tools.RequireFfmpeg();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(File.ReadAllBytes(TestMedia.HevcAacFlv)));
        Assert.That(FlvFileReader.TryReadHeader(ref reader, out var header), Is.True);
        Assert.That(header.HasAudio && header.HasVideo, Is.True);
        var tags = new List<Tag>();
        while (FlvFileReader.TryReadTag(ref reader, out var tag))
        {
            var body = tag.Body.ToArray();
            Assert.That(FlvDemuxer.Demux(tag.Type, tag.Timestamp, body, out var frame, out _), Is.EqualTo(FlvDemuxStatus.Frame), $"tag {tags.Count}");
            frame.Payload.Release(); // the spans read below are the tag bodies'
            tags.Add(new Tag(tag.Type, tag.Timestamp, body, frame));
        }

        Assert.That(reader.End, Is.True);
        return tags;
    }

    /// <summary>The .mp4's video packets in decode order: ffprobe's times (s, 6 decimals) shifted so the first DTS is 0, in ms.</summary>
    private static List<Mp4Packet> ReadMp4Video()
    {
        var mp4 = TestMedia.HevcMp4;
        var file = File.ReadAllBytes(mp4);
        var (code, csv, stderr) = MediaTestData.Run("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=dts_time,pts_time,flags,pos,size", "-of", "compact=p=0", mp4);
        Assert.That((code, stderr), Is.EqualTo((0, "")));
        var rows = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('|').Select(f => f.Split('=', 2)).ToDictionary(f => f[0], f => f[1]))
            .ToList();
        static double Seconds(string s) => double.Parse(s, CultureInfo.InvariantCulture);
        var shift = -rows.Min(r => Seconds(r["dts_time"]));
        long Ms(string s) => (long)Math.Round((Seconds(s) + shift) * 1000, MidpointRounding.AwayFromZero);
        return [.. rows.Select(r => new Mp4Packet(Ms(r["dts_time"]), Ms(r["pts_time"]), r["flags"].Contains('K', StringComparison.Ordinal),
            file.AsSpan(int.Parse(r["pos"], CultureInfo.InvariantCulture), int.Parse(r["size"], CultureInfo.InvariantCulture)).ToArray()))];
    }

    private static List<string> NalUnits(ReadOnlySpan<byte> lengthPrefixed)
    {
        var units = new List<string>();
        var reader = new LengthPrefixedNalReader(lengthPrefixed, 4);
        while (reader.TryRead(out var nal))
        {
            if ((int)HevcNal.GetType(nal[0]) is < 32 or > 34) // VPS/SPS/PPS belong to the sequence start
            {
                units.Add(Convert.ToHexStringLower(nal));
            }
        }

        return units;
    }

    private static byte[] Mp4HvcCBytes()
    {
        var mp4 = File.ReadAllBytes(TestMedia.HevcMp4);
        var box = mp4.AsSpan().IndexOf("hvcC"u8);
        return mp4.AsSpan(box + 4, BinaryPrimitives.ReadInt32BigEndian(mp4.AsSpan(box - 4)) - 8).ToArray();
    }

    private static HevcDecoderConfigurationRecord Mp4HvcC() => HevcDecoderConfigurationRecord.Parse(Mp4HvcCBytes());

    [Test]
    public void HevcAacFlv_SequenceStart_Hvc1RecordAsFfmpegWritesIt()
    {
        var tags = ReadFlv();
        var ffmpeg = Mp4HvcCBytes();
        var start = tags.First(t => t.Type == FlvTagType.Video);

        // 1 (ex header) | 001 keyframe | 0000 SequenceStart | 'hvc1' | HEVCDecoderConfigurationRecord.
        Assert.That(Convert.ToHexStringLower(start.Body.AsSpan(0, 5)), Is.EqualTo("9068766331"));
        Assert.That(start.Timestamp, Is.Zero);
        var record = start.Body.AsSpan(5);

        // Every field up to lengthSizeMinusOne (22 bytes) as ffmpeg has it; then ffmpeg's arrays are VPS, SPS, PPS and
        // x265's info SEI (declarative, ours leaves it in the stream), so ours are its first three.
        Assert.That(Convert.ToHexStringLower(record[..22]), Is.EqualTo(Convert.ToHexStringLower(ffmpeg.AsSpan(0, 22))));
        var ours = HevcDecoderConfigurationRecord.Parse(record);
        var theirs = HevcDecoderConfigurationRecord.Parse(ffmpeg);
        Assert.That(theirs.Arrays.Select(a => a.NalUnitType), Is.EqualTo(new[] { HevcNalUnitType.VideoParameterSet, HevcNalUnitType.SequenceParameterSet, HevcNalUnitType.PictureParameterSet, HevcNalUnitType.PrefixSei }));
        Assert.That(ours.Arrays.Select(a => (a.ArrayCompleteness, a.NalUnitType, Convert.ToHexStringLower(a.NalUnits.Single()))),
            Is.EqualTo(theirs.Arrays.Take(3).Select(a => (a.ArrayCompleteness, a.NalUnitType, Convert.ToHexStringLower(a.NalUnits.Single())))));
        Assert.That(tags.Count(t => t.Frame.IsConfig), Is.EqualTo(2), "one HEVC sequence start, one AAC sequence header");
    }

    [Test]
    public void HevcAacFlv_VideoTags_CarryTheEncodersTimingAndSamples()
    {
        var video = ReadFlv().Where(t => t.Type == FlvTagType.Video && !t.Frame.IsConfig).ToList();
        var packets = ReadMp4Video();

        // The .mp4 keeps x265's info SEI in its hvcC; -f hevc (hevc_mp4toannexb) puts it before each IRAP picture with
        // the parameter sets, and our FLV keeps it there (only VPS/SPS/PPS go to the sequence start).
        var infoSei = Convert.ToHexStringLower(Mp4HvcC().GetNalUnits(HevcNalUnitType.PrefixSei).Single());

        Assert.That(video, Has.Count.EqualTo(packets.Count).And.Count.EqualTo(60), "2 s at 30 fps");
        Assert.Multiple(() =>
        {
            Assert.That(video.Select(t => t.Timestamp), Is.EqualTo(packets.Select(p => p.Dts)), "tag timestamp = DTS");
            Assert.That(video.Select(t => t.Frame.Timestamp + t.Frame.CompositionTime), Is.EqualTo(packets.Select(p => p.Pts)), "DTS + CTS = PTS");
            Assert.That(video.Select(t => t.Frame.IsKeyframe), Is.EqualTo(packets.Select(p => p.Key)), "keyframes");
            Assert.That(video.Count(t => t.Frame.IsKeyframe), Is.EqualTo(2));
            Assert.That(video.Select(t => NalUnits(t.Body.AsSpan(t.Frame.CompositionTime == 0 ? 5 : 8))),
                Is.EqualTo(packets.Select(p => (p.Key ? [infoSei] : Array.Empty<string>()).Concat(NalUnits(p.Data)))), "the samples' NAL units");

            // 1 | frame type | CodedFrames (1) with an SI24 CTS, or CodedFramesX (3) when the CTS is 0; 'hvc1'.
            Assert.That(video.Select(t => t.Body[0] & 0x0F), Is.EqualTo(video.Select(t => t.Frame.CompositionTime == 0 ? 3 : 1)), "packet types");
            Assert.That(video.Select(t => (t.Body[0] >> 4) & 0x07), Is.EqualTo(video.Select(t => t.Frame.IsKeyframe ? 1 : 2)), "frame types");
            Assert.That(video.Select(t => BinaryPrimitives.ReadUInt32BigEndian(t.Body.AsSpan(1))), Is.All.EqualTo(FlvFourCc.Hvc1));
        });
        Assert.That(video.Count(t => t.Frame.CompositionTime != 0), Is.GreaterThan(30), "B-frames: most frames have a CTS");
        Assert.That(video.Count(t => t.Frame.CompositionTime == 0), Is.GreaterThan(0), "and some are CodedFramesX");
    }

    [Test]
    public void HevcAacFlv_AudioTags_AsFfmpegWroteThem()
    {
        Tools.RequireFfmpeg();
        var audio = ReadFlv().Where(t => t.Type == FlvTagType.Audio).ToList();
        var source = FlvClip.Load(TestMedia.AacFlv);

        Assert.That(audio.Select(t => (t.Timestamp, Convert.ToHexStringLower(t.Body))), Is.EqualTo(source.Select(t => (t.Timestamp, Convert.ToHexStringLower(t.Body)))));
        Assert.That(audio, Has.Count.GreaterThan(80), "about 87 AAC frames in 2 s");
    }
}
