using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using MediaServer.Core.Flv;
using MediaServer.Rtmp.Chunking;
using MediaServer.Rtmp.Messages;

namespace MediaServer.Benchmarks.Inputs;

/// <summary>One FLV tag held in memory: what an RTMP publisher sends as one audio, video or data message.</summary>
public readonly record struct MediaTag(FlvTagType Type, uint Timestamp, byte[] Body)
{
    /// <summary>
    /// A decoder configuration (AVC sequence header, AAC AudioSpecificConfig) or script data: sent once when a
    /// publish starts, not part of the steady-state media flow.
    /// </summary>
    public bool IsPreamble => Type switch
    {
        FlvTagType.Script => true,
        // Legacy AVC: UB[4] frame type | UB[4] codec id, then AVCPacketType 0 = sequence header.
        FlvTagType.Video => Body.Length > 1 && (Body[0] & 0x0F) == 7 && Body[1] == 0,
        // Legacy AAC: SoundFormat 10 in the high nibble, then AACPacketType 0 = AudioSpecificConfig.
        FlvTagType.Audio => Body.Length > 1 && (Body[0] >> 4) == 10 && Body[1] == 0,
        _ => false,
    };
}

/// <summary>An RTMP chunk stream in two parts, both starting from a fresh chunk-stream state.</summary>
/// <param name="Preamble">Set Chunk Size, <c>@setDataFrame onMetaData</c> and the sequence headers.</param>
/// <param name="Media">Every other message, with fmt 0 headers first on each chunk stream, so it can be read
/// again and again by a reader that has seen the preamble once.</param>
public sealed record ChunkStreamParts(byte[] Preamble, byte[] Media)
{
    /// <summary>Preamble then media: what a publisher sends after the handshake and the publish commands.</summary>
    public byte[] Whole { get; } = [.. Preamble, .. Media];
}

/// <summary>
/// The benchmark input: a realistic 1080p30 H.264 High + AAC-LC publish (x264 veryfast at 6 Mb/s, GOP 2 s,
/// 2 B-frames, AAC 128 kb/s stereo, 10 s), generated once with ffmpeg and cached under
/// <c>{temp}/mediaserver-benchmedia/</c>, loaded through our <see cref="FlvFileReader"/>.
/// </summary>
public sealed class BenchmarkMedia
{
    /// <summary>Chunk stream id ffmpeg uses for audio and data messages (RTMP_AUDIO_CHANNEL in rtmppkt.h).</summary>
    public const int AudioChunkStreamId = 4;

    /// <summary>Chunk stream id ffmpeg uses for video messages (RTMP_VIDEO_CHANNEL).</summary>
    public const int VideoChunkStreamId = 6;

    /// <summary>Message stream id of the first (only) stream created by createStream.</summary>
    public const uint MessageStreamId = 1;

    /// <summary>Length of the generated media.</summary>
    public const int DurationSeconds = 10;

    // Versioned by its encoding settings: change the name whenever the arguments change.
    private const string FileName = "h264-high-1080p30-6M-g60-bf2_aac-128k-48k-stereo_10s.v1.flv";

    private static readonly Lazy<BenchmarkMedia> s_shared = new(() => Load(GetOrCreateFile()));

    private BenchmarkMedia(MediaTag[] tags)
    {
        Tags = tags;
        var preamble = 0;
        while (preamble < tags.Length && tags[preamble].IsPreamble)
        {
            preamble++;
        }

        PreambleTags = tags[..preamble];
        MediaTags = tags[preamble..];
        foreach (var tag in MediaTags)
        {
            if (tag.IsPreamble)
            {
                throw new InvalidDataException("The benchmark media repeats a sequence header or metadata mid-stream; regenerate it.");
            }
        }
    }

    /// <summary>The media of this process (generated on first use, then read from the cache).</summary>
    public static BenchmarkMedia Shared => s_shared.Value;

    /// <summary>Every tag of the file, in order.</summary>
    public MediaTag[] Tags { get; }

    /// <summary>The leading metadata and sequence headers.</summary>
    public MediaTag[] PreambleTags { get; }

    /// <summary>Everything after the preamble: the steady-state audio and video frames.</summary>
    public MediaTag[] MediaTags { get; }

    /// <summary>Sum of the tag body sizes of <paramref name="tags"/>: the media bytes a stage carries.</summary>
    public static long BodyBytes(ReadOnlySpan<MediaTag> tags)
    {
        long total = 0;
        foreach (var tag in tags)
        {
            total += tag.Body.Length;
        }

        return total;
    }

    /// <summary>
    /// The same media as a publisher's RTMP chunk stream (after the handshake and commands): Set Chunk Size
    /// (sent at the default 128), then every tag as a message written by our <see cref="ChunkStreamWriter"/>
    /// at <paramref name="chunkSize"/>, audio and data on chunk stream 4, video on 6, message stream 1, and
    /// the metadata wrapped in <c>@setDataFrame</c> as ffmpeg and OBS send it.
    /// </summary>
    public ChunkStreamParts ToChunkStream(int chunkSize)
    {
        var preamble = new ArrayBufferWriter<byte>(64 * 1024);
        var writer = new ChunkStreamWriter();
        writer.Write(preamble, ProtocolControl.ChunkStreamId, RtmpMessageType.SetChunkSize, 0, 0, ProtocolControl.SetChunkSize(chunkSize));
        writer.ChunkSize = chunkSize;
        foreach (var tag in PreambleTags)
        {
            WriteTag(writer, preamble, tag);
        }

        // A fresh writer: the media part starts with fmt 0 headers, so its framing does not depend on what
        // the reader saw before it (a benchmark reads it many times over).
        var media = new ArrayBufferWriter<byte>(checked((int)(BodyBytes(MediaTags) * 11 / 10) + 4096));
        writer = new ChunkStreamWriter { ChunkSize = chunkSize };
        foreach (var tag in MediaTags)
        {
            WriteTag(writer, media, tag);
        }

        return new ChunkStreamParts(preamble.WrittenSpan.ToArray(), media.WrittenSpan.ToArray());
    }

    private static void WriteTag(ChunkStreamWriter writer, ArrayBufferWriter<byte> output, in MediaTag tag)
    {
        switch (tag.Type)
        {
            case FlvTagType.Video:
                writer.Write(output, VideoChunkStreamId, RtmpMessageType.Video, tag.Timestamp, MessageStreamId, tag.Body);
                break;
            case FlvTagType.Audio:
                writer.Write(output, AudioChunkStreamId, RtmpMessageType.Audio, tag.Timestamp, MessageStreamId, tag.Body);
                break;
            default:
                // AMF0 string "@setDataFrame": marker 0x02, UI16 length 13, the bytes.
                byte[] body = [.. "\u0002\u0000\u000D@setDataFrame"u8, .. tag.Body];
                writer.Write(output, AudioChunkStreamId, RtmpMessageType.DataAmf0, tag.Timestamp, MessageStreamId, body);
                break;
        }
    }

    /// <summary>Reads every tag of an FLV file into memory.</summary>
    public static BenchmarkMedia Load(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        if (!FlvFileReader.TryReadHeader(ref reader, out _))
        {
            throw new InvalidDataException($"{path}: truncated FLV header.");
        }

        var tags = new List<MediaTag>();
        while (FlvFileReader.TryReadTag(ref reader, out var tag))
        {
            tags.Add(new MediaTag(tag.Type, tag.Timestamp, tag.Body.ToArray()));
        }

        if (tags.Count == 0)
        {
            throw new InvalidDataException($"{path}: no FLV tags.");
        }

        return new BenchmarkMedia([.. tags]);
    }

    /// <summary>The cached file, generated with ffmpeg the first time (atomically: concurrent runs are safe).</summary>
    public static string GetOrCreateFile()
    {
        var directory = Path.Combine(Path.GetTempPath(), "mediaserver-benchmedia");
        var path = Path.Combine(directory, FileName);
        if (File.Exists(path))
        {
            return path;
        }

        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $"{FileName}.{Environment.ProcessId}.tmp");
        string[] arguments =
        [
            "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
            "-t", DurationSeconds.ToString(CultureInfo.InvariantCulture),
            "-c:v", "libx264", "-profile:v", "high", "-preset", "veryfast", "-pix_fmt", "yuv420p",
            "-b:v", "6M", "-maxrate", "6M", "-bufsize", "12M", "-g", "60", "-keyint_min", "60", "-sc_threshold", "0", "-bf", "2",
            "-c:a", "aac", "-b:a", "128k", "-ac", "2",
            "-f", "flv", temporary,
        ];
        var start = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using (var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start ffmpeg."))
        {
            var errors = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                File.Delete(temporary);
                throw new InvalidOperationException($"ffmpeg failed ({process.ExitCode}) generating the benchmark media: {errors}");
            }
        }

        File.Move(temporary, path, overwrite: true);
        return path;
    }
}
