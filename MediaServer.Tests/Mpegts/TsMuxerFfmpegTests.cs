using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using MediaServer.Core.Media;
using MediaServer.Core.Mpegts;
using MediaServer.Tests.Infrastructure;

namespace MediaServer.Tests.Mpegts;

/// <summary>
/// Independent check: real H.264/HEVC + AAC from ffmpeg (lavfi testsrc/sine into an mp4), samples cut out of the
/// mp4 by the offsets ffprobe reports (they are already AVCC/raw AAC, i.e. MediaFrame payloads), muxed by our
/// TsMuxer into a .ts, then read back by ffprobe/ffmpeg.
/// </summary>
[NonParallelizable]
public class TsMuxerFfmpegTests
{
    private sealed record Sample(int Stream, long DtsMs, long PtsMs, bool Key, byte[] Data);

    [TestCase("libx264", MediaCodec.H264, "avcC", "h264")]
    [TestCase("libx265", MediaCodec.Hevc, "hvcC", "hevc")]
    public void Mux_FfmpegEncodedStream_FfprobeCountsEveryFrameAndFfmpegDecodesIdentically(string encoder, MediaCodec codec, string box, string codecName)
    {
        Tools.RequireFfmpeg();
        using var dir = MediaTestData.TempDirectory("ts-e2e");
        var mp4 = Path.Combine(dir, "in.mp4");
        var ts = Path.Combine(dir, "out.ts");
        Ok(MediaTestData.Run("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
            "-t", "4", "-c:v", encoder, "-pix_fmt", "yuv420p", "-bf", "2", "-g", "25", "-x265-params", "log-level=none", "-c:a", "aac", "-ac", "2", "-b:a", "96k", mp4));

        var file = File.ReadAllBytes(mp4);
        var samples = ReadSamples(mp4, file);
        var videoCount = samples.Count(s => s.Stream == 0);
        var audioCount = samples.Count(s => s.Stream == 1);
        Assert.That(videoCount, Is.EqualTo(100));
        Assert.That(samples.Any(s => s.Stream == 0 && s.PtsMs != s.DtsMs), Is.True, "B-frames give composition offsets");

        var muxer = new TsMuxer();
        var output = new ArrayBufferWriter<byte>();
        Write(muxer, output, new MediaFrame(MediaKind.Video, codec, FrameFlags.Config | FrameFlags.Keyframe, 0, 0, Core.Buffers.MediaBuffer.CopyOf(FindBox(file, box))));
        Write(muxer, output, new MediaFrame(MediaKind.Audio, MediaCodec.Aac, FrameFlags.Config, 0, 0, Core.Buffers.MediaBuffer.CopyOf([0x12, 0x10]))); // LC 44100 stereo
        foreach (var sample in samples.OrderBy(s => s.DtsMs).ThenBy(s => s.Stream))
        {
            if (sample.Stream == 0 && sample.Key)
            {
                // What the segmenter does at every cut.
                muxer.Flush(output);
                muxer.BeginSegment(output);
            }

            var frame = sample.Stream == 0
                ? new MediaFrame(MediaKind.Video, codec, sample.Key ? FrameFlags.Keyframe : FrameFlags.None, sample.DtsMs, (int)(sample.PtsMs - sample.DtsMs), Core.Buffers.MediaBuffer.CopyOf(sample.Data))
                : new MediaFrame(MediaKind.Audio, MediaCodec.Aac, FrameFlags.None, sample.DtsMs, 0, Core.Buffers.MediaBuffer.CopyOf(sample.Data));
            Assert.That(Write(muxer, output, frame), Is.True);
        }

        muxer.Flush(output);
        File.WriteAllBytes(ts, output.WrittenSpan.ToArray());
        Assert.That(TsTestDemuxer.Parse(output.WrittenSpan).Errors, Is.Empty);

        var probe = Ok(MediaTestData.Run("ffprobe", "-v", "error", "-count_frames", "-show_entries", "stream=codec_name,nb_read_frames,width,height,sample_rate,channels", "-of", "compact=p=0", ts));
        // Streams are listed twice: on their own and inside the program.
        var lines = probe.Split('\n', StringSplitOptions.RemoveEmptyEntries).Distinct().ToArray();
        Assert.That(lines, Has.Length.EqualTo(2), probe);
        Assert.That(lines[0], Does.Contain($"codec_name={codecName}").And.Contain("width=320").And.Contain("height=240").And.Contain($"nb_read_frames={videoCount}"), probe);
        Assert.That(lines[1], Does.Contain("codec_name=aac").And.Contain("sample_rate=44100").And.Contain("channels=2").And.Contain($"nb_read_frames={audioCount}"), probe);

        Ok(MediaTestData.Run("ffmpeg", "-v", "error", "-i", ts, "-f", "null", "-"));

        // The decoded pictures are identical to those of the source mp4.
        Assert.That(VideoMd5s(ts), Is.EqualTo(VideoMd5s(mp4)));
    }

    private static string Ok((int ExitCode, string Stdout, string Stderr) result)
    {
        Assert.That(result.ExitCode, Is.Zero, result.Stderr);
        Assert.That(result.Stderr.Trim(), Is.Empty);
        return result.Stdout;
    }

    private static bool Write(TsMuxer muxer, IBufferWriter<byte> output, MediaFrame frame)
    {
        try
        {
            return muxer.Write(frame, output) == MuxRejection.None;
        }
        finally
        {
            frame.Payload.Release();
        }
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

    private static List<Sample> ReadSamples(string path, byte[] file)
    {
        var csv = Ok(MediaTestData.Run("ffprobe", "-v", "error", "-show_entries", "packet=stream_index,pts_time,dts_time,pos,size,flags", "-of", "compact=p=0", path));
        var samples = new List<Sample>();
        foreach (var line in csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("stream_index=", StringComparison.Ordinal)))
        {
            var fields = line.Split('|').Select(f => f.Split('=', 2)).Where(f => f.Length == 2).ToDictionary(f => f[0], f => f[1]);
            var pos = long.Parse(fields["pos"], CultureInfo.InvariantCulture);
            var size = int.Parse(fields["size"], CultureInfo.InvariantCulture);
            samples.Add(new Sample(
                int.Parse(fields["stream_index"], CultureInfo.InvariantCulture),
                Ms(fields["dts_time"]),
                Ms(fields["pts_time"]),
                fields["flags"].Contains('K', StringComparison.Ordinal),
                file.AsSpan((int)pos, size).ToArray()));
        }

        return samples;
    }

    private static long Ms(string seconds) => (long)Math.Round(double.Parse(seconds, CultureInfo.InvariantCulture) * 1000);
}
