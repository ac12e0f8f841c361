using System.Buffers;
using MediaServer.Core.Media;
using MediaServer.Hls.Storage;
using static MediaServer.Tests.Hls.HlsTestKit;
using PropertyAttribute = FsCheck.NUnit.PropertyAttribute;

namespace MediaServer.Tests.Hls;

public class PartPropertyTests
{
    private static readonly int[] s_partMs = [200, 333, 500, 1000];
    private static readonly int[] s_frameMs = [20, 25, 33, 40];

    /// <summary>
    /// Random frame timelines (part target, frame rate, audio or not, GOP lengths, publisher changes) through the
    /// segmenter with parts; for every segment of the final window: its parts tile it exactly (the parts' bytes
    /// concatenated are the segment's bytes), every part lasts at most the part target and, but a segment's last, at
    /// least 85 % of it (frames are at most 15 % of the target here), INDEPENDENT is set exactly on the parts that
    /// start with a keyframe, each part starts with the tables, the part durations add up to EXTINF, and the
    /// part target the stream reports never changes.
    /// </summary>
    [Property(MaxTest = 100, Replay = "(20241109,29)")]
    public bool Parts_TileTheirSegments_WithinBounds(byte partChoice, byte frameChoice, bool withAudio, byte[] gops)
    {
        var partMs = s_partMs[partChoice % s_partMs.Length];
        var frameMs = s_frameMs[frameChoice % s_frameMs.Length];
        if (frameMs > partMs * 0.15)
        {
            frameMs = (int)(partMs * 0.15);
        }

        var options = Options(segmentSeconds: 2, playlistLength: 50);
        using var h = new SegmenterHarness(options, TimeSpan.FromMilliseconds(partMs));
        h.Feed(VideoConfig());
        if (withAudio)
        {
            h.Feed(AudioConfig());
        }

        long t = 0, nextAudio = 0;
        foreach (var g in gops.Take(20))
        {
            var frames = 5 + (g % 120);
            var flags = g % 7 == 0 ? FrameFlags.Discontinuity : FrameFlags.None;
            if (flags != FrameFlags.None)
            {
                t = 0;
                nextAudio = 0;
            }

            for (var i = 0; i < frames; i++, t += frameMs)
            {
                h.Feed(Video(t, key: i == 0, extra: i == 0 ? flags : FrameFlags.None));
                while (withAudio && nextAudio < t + frameMs)
                {
                    h.Feed(Audio(nextAudio));
                    nextAudio += 21;
                }
            }
        }

        h.Segmenter.Complete();
        Require(h.Stream.PartTargetMs == 0 || h.Stream.PartTargetMs == partMs, "the part target changed");
        foreach (var segment in h.Stream.GetWindow())
        {
            var bytes = segment.Buffer.GetSequence().ToArray();
            var parts = segment.Parts;
            Require(parts.Count > 0, "a segment without parts");
            long offset = 0, duration = 0;
            for (var i = 0; i < parts.Count; i++)
            {
                var part = parts[i];
                Require(part.Offset == offset && part.Length > 0, $"part {i} does not follow the previous one");
                Require(part.DurationMs <= partMs, $"part {i} lasts {part.DurationMs} ms > {partMs}");
                Require(i == parts.Count - 1 || part.DurationMs >= partMs * 0.85, $"part {i} lasts {part.DurationMs} ms < 85 % of {partMs}");
                var records = bytes.AsSpan((int)part.Offset, (int)part.Length);
                Require(records[0] == (byte)'T', $"part {i} does not start with the tables");
                var firstMedia = FirstMediaRecord(records);
                var startsOnKeyframe = firstMedia >= 0 && records[firstMedia] == (byte)'V' && records[firstMedia + 1] == 1;
                Require(part.Independent == startsOnKeyframe, $"part {i}: INDEPENDENT={part.Independent} but starts on a keyframe: {startsOnKeyframe}");
                offset += part.Length;
                duration += part.DurationMs;
            }

            Require(offset == bytes.Length, $"the parts cover {offset} of {bytes.Length} bytes");
            Require(duration == segment.DurationMs, $"parts add up to {duration} ms, EXTINF is {segment.DurationMs} ms");
        }

        return true;
    }

    // The first video or audio record of a part (after its tables).
    private static int FirstMediaRecord(ReadOnlySpan<byte> records)
    {
        for (var i = 0; i + FakeSegmentMuxer.RecordSize <= records.Length; i += FakeSegmentMuxer.RecordSize)
        {
            if (records[i] is (byte)'V' or (byte)'A')
            {
                return i;
            }
        }

        return -1;
    }

    private static void Require(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException(what);
        }
    }
}
