using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using MediaServer.Core.Buffers;
using MediaServer.Core.Media;
using MediaServer.Core.Mpegts;
using MediaServer.Core.Streams;
using MediaServer.Hls;
using MediaServer.Hls.Serving;
using MediaServer.Hls.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MediaServer.Tests.Hls;

/// <summary>
/// ffmpeg-encoded H.264 + AAC → StreamHub → HlsService with the real TS muxer → HTTP → ffprobe/ffmpeg read
/// the playlist and decode every segment. Ignored while the TsMuxer placeholder is in place.
/// </summary>
[Category("EndToEnd")]
[NonParallelizable]
public class HlsEndToEndTests
{
    private const int Seconds = 6;
    private const int Fps = 25;

    [Test]
    public async Task Hls_FfmpegEncodedStream_IsPlayableByFfmpeg()
    {
        var dir = Directory.CreateTempSubdirectory("hls-e2e-");
        try
        {
            var h264 = Path.Combine(dir.FullName, "v.h264");
            var aac = Path.Combine(dir.FullName, "a.aac");
            await Run("ffmpeg", $"-v error -y -f lavfi -i testsrc=size=160x120:rate={Fps} -t {Seconds} -pix_fmt yuv420p -c:v libx264 -profile:v baseline -bf 0 -g {Fps} -keyint_min {Fps} -sc_threshold 0 -x264-params aud=1 -f h264 {h264}");
            await Run("ffmpeg", $"-v error -y -f lavfi -i sine=frequency=440:sample_rate=44100 -t {Seconds} -c:a aac -b:a 64k -f adts {aac}");
            var frames = ReadH264(await File.ReadAllBytesAsync(h264)).Concat(ReadAdts(await File.ReadAllBytesAsync(aac)))
                .OrderBy(f => f.Timestamp).ThenBy(f => f.IsConfig ? 0 : 1).ToList();

            var hub = new StreamHub();
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            builder.Services.AddSingleton(hub);
            builder.Services.AddMediaServerHls(o => o.SegmentDuration = TimeSpan.FromSeconds(2));
            await using var app = builder.Build();
            app.MapHls();
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

            using (var publisher = hub.Publish("e2e"))
            {
                foreach (var frame in frames)
                {
                    publisher.Publish(frame);
                    frame.Payload.Release();
                }

                publisher.Unpublish();
            }

            var store = app.Services.GetRequiredService<HlsStreamStore>();
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (store.Find("e2e") is not { IsEnded: true, Playlist: not null } && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }

            var stream = store.Find("e2e")!;
            Assert.That(hub.Find("e2e"), Is.Null);
            Assert.That(stream.IsEnded, Is.True);
            Assert.That(stream.GetWindow(), Has.Length.EqualTo(Seconds / 2));
            var url = $"{address}/live/e2e/index.m3u8";
            var probe = await Run("ffprobe", $"-v error -count_frames -show_entries stream=codec_name,nb_read_frames -of csv=p=0 {url}");
            Assert.That(probe.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), Is.SupersetOf(new[] { $"h264,{Seconds * Fps}" }));
            Assert.That(probe, Does.Contain("aac,"));
            var decode = await Run("ffmpeg", $"-v error -i {url} -f null -");
            Assert.That(decode, Is.Empty, "ffmpeg reports no errors decoding every segment");
            await app.StopAsync();
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static async Task<string> Run(string tool, string arguments)
    {
        var info = new ProcessStartInfo(tool, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.That(process.ExitCode, Is.Zero, $"{tool} {arguments}\n{await stderr}");
        return (await stdout) + (await stderr);
    }

    // Annex B with an AUD opening every access unit → AVCC frames (4-byte lengths) + one AVC config record.
    private static List<MediaFrame> ReadH264(byte[] annexB)
    {
        var nals = new List<(int Start, int Length)>();
        var start = -1;
        for (var i = 0; i + 3 <= annexB.Length; i++)
        {
            if (annexB[i] == 0 && annexB[i + 1] == 0 && annexB[i + 2] == 1)
            {
                if (start >= 0)
                {
                    nals.Add((start, (i > 0 && annexB[i - 1] == 0 ? i - 1 : i) - start));
                }

                start = i + 3;
                i += 2;
            }
        }

        nals.Add((start, annexB.Length - start));
        byte[]? sps = null;
        byte[]? pps = null;
        var units = new List<List<byte[]>>();
        foreach (var (s, length) in nals)
        {
            var nal = annexB.AsSpan(s, length).ToArray();
            switch (nal[0] & 0x1F)
            {
                case 9: units.Add([]); break;     // AUD: a new access unit (the muxer writes its own)
                case 7: sps ??= nal; break;       // SPS/PPS go into the config record
                case 8: pps ??= nal; break;
                default: units[^1].Add(nal); break;
            }
        }

        byte[] config = [1, sps![1], sps[2], sps[3], 0xFF, 0xE1, (byte)(sps.Length >> 8), (byte)sps.Length, .. sps, 1, (byte)(pps!.Length >> 8), (byte)pps.Length, .. pps];
        var frames = new List<MediaFrame> { new(MediaKind.Video, MediaCodec.H264, FrameFlags.Config | FrameFlags.Keyframe, 0, 0, MediaBuffer.CopyOf(config)) };
        for (var n = 0; n < units.Count; n++)
        {
            var payload = new byte[units[n].Sum(u => 4 + u.Length)];
            var offset = 0;
            var key = false;
            foreach (var nal in units[n])
            {
                key |= (nal[0] & 0x1F) == 5;
                BinaryPrimitives.WriteInt32BigEndian(payload.AsSpan(offset), nal.Length);
                nal.CopyTo(payload, offset + 4);
                offset += 4 + nal.Length;
            }

            frames.Add(new(MediaKind.Video, MediaCodec.H264, key ? FrameFlags.Keyframe : FrameFlags.None, n * 1000L / Fps, 0, MediaBuffer.CopyOf(payload)));
        }

        return frames;
    }

    // ADTS frames → raw AAC frames + an AudioSpecificConfig (object type, frequency index, channels).
    private static List<MediaFrame> ReadAdts(byte[] adts)
    {
        var frames = new List<MediaFrame>();
        var n = 0;
        for (var i = 0; i + 7 <= adts.Length; n++)
        {
            var objectType = (adts[i + 2] >> 6) + 1;
            var frequencyIndex = (adts[i + 2] >> 2) & 0xF;
            var channels = ((adts[i + 2] & 1) << 2) | (adts[i + 3] >> 6);
            var frameLength = ((adts[i + 3] & 3) << 11) | (adts[i + 4] << 3) | (adts[i + 5] >> 5);
            var headerLength = (adts[i + 1] & 1) == 1 ? 7 : 9;
            if (n == 0)
            {
                byte[] asc = [(byte)((objectType << 3) | (frequencyIndex >> 1)), (byte)(((frequencyIndex & 1) << 7) | (channels << 3))];
                frames.Add(new(MediaKind.Audio, MediaCodec.Aac, FrameFlags.Config, 0, 0, MediaBuffer.CopyOf(asc)));
            }

            frames.Add(new(MediaKind.Audio, MediaCodec.Aac, FrameFlags.None, n * 1024L * 1000 / 44100, 0, MediaBuffer.CopyOf(adts.AsSpan(i + headerLength, frameLength - headerLength))));
            i += frameLength;
        }

        return frames;
    }
}
