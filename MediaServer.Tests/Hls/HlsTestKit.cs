using System.Buffers;
using System.Buffers.Binary;
using MediaServer.Core.Buffers;
using MediaServer.Core.Media;
using MediaServer.Hls;
using MediaServer.Hls.Segmenting;
using MediaServer.Hls.Storage;

namespace MediaServer.Tests.Hls;

/// <summary>
/// A stand-in for the TS muxer: one 16-byte record per call, so tests can read back which frames went
/// into which segment. Record: [0] tag ('T' tables, 'V' video, 'A' audio, 'F' flush), [1] keyframe,
/// [2..10) DTS big-endian, [10..16) zero.
/// </summary>
internal sealed class FakeSegmentMuxer : ISegmentMuxer
{
    public const int RecordSize = 16;

    private bool _hasVideoConfig;
    private bool _hasAudioConfig;

    /// <summary>Refuse media frames of a track until its config frame was seen (as the TS muxer does).</summary>
    public bool RequireConfig { get; set; }

    /// <summary>Extra filler bytes written per media frame (to exercise size limits and chunking).</summary>
    public int PaddingPerFrame { get; set; }

    public int FlushCount { get; private set; }

    public bool IsSupported(MediaCodec codec) => codec is MediaCodec.H264 or MediaCodec.Hevc or MediaCodec.Aac or MediaCodec.Mp3;

    public MuxRejection Configure(in MediaFrame config)
    {
        _hasVideoConfig |= config.IsVideo;
        _hasAudioConfig |= config.IsAudio;
        return MuxRejection.None;
    }

    public MuxRejection Write(in MediaFrame frame, IBufferWriter<byte> output)
    {
        if (RequireConfig && !(frame.IsVideo ? _hasVideoConfig : _hasAudioConfig))
        {
            return MuxRejection.NoConfig;
        }

        WriteRecord(output, frame.IsVideo ? (byte)'V' : (byte)'A', frame.IsKeyframe, frame.Timestamp);
        if (PaddingPerFrame > 0)
        {
            output.GetSpan(PaddingPerFrame)[..PaddingPerFrame].Clear();
            output.Advance(PaddingPerFrame);
        }

        return MuxRejection.None;
    }

    public void BeginSegment(IBufferWriter<byte> output) => WriteRecord(output, (byte)'T', false, 0);

    public void Flush(IBufferWriter<byte> output)
    {
        FlushCount++;
        WriteRecord(output, (byte)'F', false, 0);
    }

    private static void WriteRecord(IBufferWriter<byte> output, byte tag, bool key, long dts)
    {
        var span = output.GetSpan(RecordSize)[..RecordSize];
        span.Clear();
        span[0] = tag;
        span[1] = key ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteInt64BigEndian(span[2..], dts);
        output.Advance(RecordSize);
    }

    /// <summary>Decodes a segment written by this muxer (without padding) as "T V0k V33 A10 F".</summary>
    public static string Describe(SegmentBuffer buffer)
    {
        var bytes = buffer.GetSequence().ToArray();
        var parts = new List<string>();
        for (var i = 0; i + RecordSize <= bytes.Length; i += RecordSize)
        {
            var tag = (char)bytes[i];
            var dts = BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(i + 2));
            parts.Add(tag is 'T' or 'F' ? tag.ToString() : $"{tag}{dts}{(bytes[i + 1] == 1 ? "k" : string.Empty)}");
        }

        return string.Join(' ', parts);
    }
}

/// <summary>A clock the test moves by hand (no Microsoft.Extensions.TimeProvider.Testing package here).</summary>
internal sealed class ManualTimeProvider : TimeProvider
{
    private long _ticks;

    public ManualTimeProvider(DateTimeOffset start)
    {
        Start = start;
    }

    public DateTimeOffset Start { get; }

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    public override DateTimeOffset GetUtcNow() => Start.AddTicks(Interlocked.Read(ref _ticks));

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}

/// <summary>Frame builders and a segmenter harness.</summary>
internal static class HlsTestKit
{
    public static readonly DateTimeOffset Epoch = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    public static MediaFrame Video(long dts, bool key = false, FrameFlags extra = FrameFlags.None, MediaCodec codec = MediaCodec.H264) =>
        new(MediaKind.Video, codec, (key ? FrameFlags.Keyframe : FrameFlags.None) | extra, dts, 0, MediaBuffer.CopyOf([1, 2, 3]));

    public static MediaFrame Audio(long dts, FrameFlags extra = FrameFlags.None, MediaCodec codec = MediaCodec.Aac) =>
        new(MediaKind.Audio, codec, extra, dts, 0, MediaBuffer.CopyOf([4, 5]));

    public static MediaFrame VideoConfig(byte version = 1, long dts = 0, FrameFlags extra = FrameFlags.None) =>
        new(MediaKind.Video, MediaCodec.H264, FrameFlags.Config | FrameFlags.Keyframe | extra, dts, 0, MediaBuffer.CopyOf([1, 0x64, 0, version]));

    public static MediaFrame AudioConfig(byte version = 0x10, long dts = 0) =>
        new(MediaKind.Audio, MediaCodec.Aac, FrameFlags.Config, dts, 0, MediaBuffer.CopyOf([0x12, version]));

    public static HlsOptions Options(double segmentSeconds = 2, int playlistLength = 3, bool fmp4 = false) => new()
    {
        SegmentDuration = TimeSpan.FromSeconds(segmentSeconds),
        PlaylistLength = playlistLength,
        Fmp4Rendition = fmp4, // the unit tests drive one (fake) muxer; the fMP4 rendition is tested on its own
        PartDuration = TimeSpan.Zero, // classic unless a test asks for parts (the server's default is 0.2 s)
    };
}

/// <summary>A segmenter over a fake muxer, a manual clock and a diagnostics log.</summary>
internal sealed class SegmenterHarness : IDisposable
{
    public SegmenterHarness(HlsOptions? options = null, TimeSpan? partDuration = null, HlsMetrics? metrics = null)
    {
        Options = options ?? HlsTestKit.Options();
        if (partDuration is not null)
        {
            Options.PartDuration = partDuration;
        }

        Time = new ManualTimeProvider(HlsTestKit.Epoch);
        Stream = new HlsStream("cam", Options, Time, sessionId: "s1");
        Policy = new SegmentationPolicy(Options.SegmentDuration, Options.MaxSegmentBytes, partDuration);
        Segmenter = new HlsSegmenter(
            Stream,
            Muxer,
            Policy,
            Time,
            (key, message) =>
            {
                Diagnostics.Add((key, message));
                return true;
            },
            metrics: metrics);
    }

    public HlsOptions Options { get; }

    public ManualTimeProvider Time { get; }

    public FakeSegmentMuxer Muxer { get; } = new();

    public HlsStream Stream { get; }

    public SegmentationPolicy Policy { get; }

    public HlsSegmenter Segmenter { get; }

    public List<(string Key, string Message)> Diagnostics { get; } = [];

    /// <summary>Feeds a frame and releases the caller's reference, as the service does.</summary>
    public void Feed(MediaFrame frame)
    {
        try
        {
            Segmenter.Process(frame);
        }
        finally
        {
            frame.Payload.Release();
        }
    }

    /// <summary>Feeds <paramref name="count"/> video frames every <paramref name="frameMs"/> from
    /// <paramref name="fromMs"/>, a keyframe every <paramref name="gopFrames"/> frames (the first is one).</summary>
    public void FeedVideo(long fromMs, int count, int gopFrames, long frameMs = 40, int skip = 0)
    {
        for (var i = skip; i < count; i++)
        {
            Feed(HlsTestKit.Video(fromMs + (i * frameMs), key: i % gopFrames == 0));
        }
    }

    public string Playlist => Stream.Playlist is { } bytes ? System.Text.Encoding.UTF8.GetString(bytes) : "<none>";

    public string[] Describe() => Stream.GetWindow().Select(s => FakeSegmentMuxer.Describe(s.Buffer)).ToArray();

    public long[] Durations() => Stream.GetWindow().Select(s => s.DurationMs).ToArray();

    public void Dispose() => Stream.Dispose();
}
