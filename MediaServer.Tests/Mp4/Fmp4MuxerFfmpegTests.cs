using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using MediaServer.Core.Buffers;
using MediaServer.Core.Flv;
using MediaServer.Core.Media;
using MediaServer.Core.Mp4;
using MediaServer.Tests.Infrastructure;

namespace MediaServer.Tests.Mp4;

/// <summary>
/// Independent check: real media from ffmpeg, muxed by our <see cref="Fmp4Muxer"/> into an init segment and
/// fragments (a fragment every ~500 ms of video and at every keyframe, as low-latency parts would be cut),
/// concatenated into one .mp4 and read back by ffprobe/ffmpeg: no complaint at <c>-v error</c>, every frame
/// counted, the same decode timestamps, and the same decoded pictures as the source.
/// </summary>
[NonParallelizable]
public class Fmp4MuxerFfmpegTests
{
    private const long FragmentMs = 500;

    [Test]
    public void Mux_FfmpegFlvH264Aac_FfprobeCountsEveryFrameAndFfmpegDecodesIdentically()
    {
        Tools.RequireFfmpeg();
        var flv = TestMedia.H264AacFlv;
        var frames = new List<MediaFrame>();
        foreach (var tag in FlvClip.Load(flv))
        {
            if (FlvDemuxer.Demux(tag.Type, tag.Timestamp, tag.Body, out var frame, out _) == FlvDemuxStatus.Frame)
            {
                frames.Add(frame);
            }
        }

        Check(frames, flv, "h264", 320, 240, 44100, 1);
    }

    // HEVC: ffmpeg 5.1 cannot put HEVC into FLV, so the frames are cut out of an ffmpeg-made .mp4 (its samples are
    // already HVCC/raw AAC, i.e. MediaFrame payloads) by the packet offsets ffprobe reports.
    [TestCase("libx264", MediaCodec.H264, "avcC", "h264")]
    [TestCase("libx265", MediaCodec.Hevc, "hvcC", "hevc")]
    public void Mux_FfmpegMp4Samples_FfprobeCountsEveryFrameAndFfmpegDecodesIdentically(string encoder, MediaCodec codec, string box, string codecName)
    {
        Tools.RequireFfmpeg();
        var mp4 = TestMedia.Generate($"fmp4-src-{encoder}", ".mp4",
            "-f lavfi -i testsrc=size=320x240:rate=25:duration=3 -f lavfi -i sine=frequency=440:sample_rate=48000:duration=3 "
            + $"-c:v {encoder} -pix_fmt yuv420p -bf 2 -g 25 -x265-params log-level=none -c:a aac -ac 2 -b:a 96k -shortest");
        var file = File.ReadAllBytes(mp4);
        var frames = new List<MediaFrame>
        {
            new(MediaKind.Video, codec, FrameFlags.Config | FrameFlags.Keyframe, 0, 0, MediaBuffer.CopyOf(FindBox(file, box))),
            new(MediaKind.Audio, MediaCodec.Aac, FrameFlags.Config, 0, 0, MediaBuffer.CopyOf([0x11, 0x90])), // LC, 48000 Hz, stereo
        };

        // The mp4's B-frame start has negative decode times (its edit list hides them); an RTMP timeline starts at 0.
        var samples = ReadSamples(mp4, file);
        var shift = Math.Max(0, -samples.Min(s => s.Dts));
        foreach (var (stream, sampleDts, samplePts, key, data) in samples.OrderBy(s => s.Dts).ThenBy(s => s.Stream))
        {
            var (dts, pts) = (sampleDts + shift, samplePts + shift);
            frames.Add(stream == 0
                ? new MediaFrame(MediaKind.Video, codec, key ? FrameFlags.Keyframe : FrameFlags.None, dts, (int)(pts - dts), MediaBuffer.CopyOf(data))
                : new MediaFrame(MediaKind.Audio, MediaCodec.Aac, FrameFlags.None, dts, 0, MediaBuffer.CopyOf(data)));
        }

        Assert.That(frames.Any(f => f.CompositionTime != 0), Is.True, "B-frames give composition offsets");
        Check(frames, mp4, codecName, 320, 240, 48000, 2);
    }

    private static void Check(List<MediaFrame> frames, string source, string codecName, int width, int height, int sampleRate, int channels)
    {
        using var dir = MediaTestData.TempDirectory("fmp4-e2e");
        var path = Path.Combine(dir, "out.mp4");
        var media = frames.Where(f => (f.Flags & (FrameFlags.Config | FrameFlags.EndOfSequence)) == 0).ToList();
        var videoDts = media.Where(f => f.IsVideo).Select(f => f.Timestamp).ToList();
        var audioDts = media.Where(f => f.IsAudio).Select(f => f.Timestamp).ToList();

        var (init, fragments, count) = Mux(frames);
        File.WriteAllBytes(path, [.. init, .. fragments]);

        // Our own reading first: one moof + mdat pair per fragment, sequence numbers 1, 2, 3...
        var boxes = Mp4TestReader.Read(fragments);
        Assert.That(boxes.Select(b => b.Type), Is.EqualTo(Enumerable.Range(0, count).SelectMany(_ => new[] { "moof", "mdat" })));
        Assert.That(boxes.Where(b => b.Type == "moof").Select(b => b.Child("mfhd").U32(4)), Is.EqualTo(Enumerable.Range(1, count).Select(i => (uint)i)));
        Assert.That(count, Is.GreaterThan((videoDts[^1] - videoDts[0]) / FragmentMs), "a fragment at least every ~500 ms of video");

        var probe = Ok(MediaTestData.Run("ffprobe", "-v", "error", "-count_frames", "-show_entries",
            "stream=codec_name,nb_read_frames,width,height,sample_rate,channels", "-of", "compact=p=0", path));
        var lines = probe.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(2), probe);
        Assert.That(lines[0], Does.Contain($"codec_name={codecName}").And.Contain($"width={width}").And.Contain($"height={height}").And.Contain($"nb_read_frames={videoDts.Count}"), probe);
        Assert.That(lines[1], Does.Contain("codec_name=aac").And.Contain($"sample_rate={sampleRate}").And.Contain($"channels={channels}").And.Contain($"nb_read_frames={audioDts.Count}"), probe);

        // Decode timestamps as the frames had them: tfdt and durations add up, across every fragment.
        Assert.That(PacketDts(path, "v"), Is.EqualTo(videoDts));
        Assert.That(PacketDts(path, "a"), Is.EqualTo(audioDts));

        Ok(MediaTestData.Run("ffmpeg", "-v", "error", "-i", path, "-f", "null", "-"));
        Assert.That(VideoMd5s(path), Is.EqualTo(VideoMd5s(source)));
    }

    /// <summary>Muxes the frames as a segmenter cutting parts would; returns the init segment, the fragments and their count.</summary>
    private static (byte[] Init, byte[] Fragments, int Count) Mux(List<MediaFrame> frames)
    {
        using var muxer = new Fmp4Muxer();
        var output = new ArrayBufferWriter<byte>();
        var fragmentStart = -1L;
        var count = 0;
        foreach (var frame in frames)
        {
            try
            {
                var media = frame.IsVideo && (frame.Flags & (FrameFlags.Config | FrameFlags.EndOfSequence)) == 0;
                if (media && muxer.HasPendingSamples && (frame.IsKeyframe || frame.Timestamp - fragmentStart >= FragmentMs))
                {
                    muxer.Flush(output);
                    count++;
                    fragmentStart = -1;
                }

                if (media && fragmentStart < 0)
                {
                    fragmentStart = frame.Timestamp;
                }

                Assert.That(muxer.Write(frame, output), Is.EqualTo(MuxRejection.None));
            }
            finally
            {
                frame.Payload.Release();
            }
        }

        muxer.Flush(output);
        count++;
        Assert.That(muxer.InitSegmentVersion, Is.EqualTo(2), "one version per track configured");
        Assert.That(muxer.SequenceNumber, Is.EqualTo((uint)count), "Write never flushed on its own");
        var init = new ArrayBufferWriter<byte>();
        muxer.WriteInitSegment(init);
        return (init.WrittenSpan.ToArray(), output.WrittenSpan.ToArray(), count);
    }

    private static List<long> PacketDts(string path, string stream) =>
        [.. Ok(MediaTestData.Run("ffprobe", "-v", "error", "-select_streams", stream, "-show_entries", "packet=dts_time", "-of", "csv=p=0", path))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(Ms)];

    private static string Ok((int ExitCode, string Stdout, string Stderr) result)
    {
        Assert.That(result.ExitCode, Is.Zero, result.Stderr);
        Assert.That(result.Stderr.Trim(), Is.Empty);
        return result.Stdout;
    }

    private static List<string> VideoMd5s(string path) =>
        [.. Ok(MediaTestData.Run("ffmpeg", "-v", "error", "-i", path, "-map", "0:v", "-f", "framemd5", "-"))
            .Split('\n').Where(l => l.Length > 0 && l[0] != '#').Select(l => l.Split(',')[^1].Trim())];

    private static byte[] FindBox(byte[] file, string type)
    {
        var index = file.AsSpan().IndexOf(System.Text.Encoding.ASCII.GetBytes(type));
        Assert.That(index, Is.GreaterThan(4), $"no {type} box");
        var size = BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(index - 4));
        return file.AsSpan(index + 4, size - 8).ToArray();
    }

    private static List<(int Stream, long Dts, long Pts, bool Key, byte[] Data)> ReadSamples(string path, byte[] file)
    {
        var csv = Ok(MediaTestData.Run("ffprobe", "-v", "error", "-show_entries", "packet=stream_index,pts_time,dts_time,pos,size,flags", "-of", "compact=p=0", path));
        var samples = new List<(int, long, long, bool, byte[])>();
        foreach (var line in csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("stream_index=", StringComparison.Ordinal)))
        {
            var fields = line.Split('|').Select(f => f.Split('=', 2)).Where(f => f.Length == 2).ToDictionary(f => f[0], f => f[1]);
            var pos = int.Parse(fields["pos"], CultureInfo.InvariantCulture);
            var size = int.Parse(fields["size"], CultureInfo.InvariantCulture);
            samples.Add((int.Parse(fields["stream_index"], CultureInfo.InvariantCulture), Ms(fields["dts_time"]), Ms(fields["pts_time"]),
                fields["flags"].Contains('K', StringComparison.Ordinal), file.AsSpan(pos, size).ToArray()));
        }

        return samples;
    }

    private static long Ms(string seconds) => (long)Math.Round(double.Parse(seconds, CultureInfo.InvariantCulture) * 1000);
}
