using MediaServer.Core.Diagnostics;
using System.Globalization;
using System.Text;
using MediaServer.Core.Media;
using MediaServer.Hls.Segmenting;
using static MediaServer.Tests.Hls.HlsTestKit;
using PropertyAttribute = FsCheck.NUnit.PropertyAttribute;

namespace MediaServer.Tests.Hls;

public class PlaylistPropertyTests
{
    private static readonly int[] s_frameMs = [20, 33, 40, 50];

    /// <summary>
    /// Random frame timelines (segment setting, frame rate, audio or not, then runs of GOPs of random length,
    /// each run possibly after a publisher change, a new sequence header or a timestamp jump) through the
    /// segmenter; after every playlist change: media and discontinuity sequences never decrease, the target
    /// duration never changes and is ≥ ceil(SegmentDuration), every rounded EXTINF ≤ target (GOPs longer than
    /// the target are split), a window that has slid holds ≥ 3 × target, segment URIs are consecutive from the
    /// media sequence, every segment starts with tables and video, with a keyframe unless it follows a split
    /// (no discontinuity, the segment before it as long as the target allows, the diagnostic raised), and the end
    /// adds EXT-X-ENDLIST.
    /// </summary>
    [Property(MaxTest = 150, Replay = "(20241109,23)")]
    public bool Playlist_Invariants(byte segmentChoice, byte frameChoice, bool withAudio, byte[] runs)
    {
        var options = Options(segmentSeconds: 1 + (segmentChoice % 4), playlistLength: 3 + (segmentChoice / 4 % 4));
        var frameMs = s_frameMs[frameChoice % s_frameMs.Length];
        using var h = new SegmenterHarness(options);
        var checker = new Checker(h, (int)Math.Ceiling(options.SegmentDuration.TotalSeconds), frameMs);
        h.Feed(VideoConfig());
        if (withAudio)
        {
            h.Feed(AudioConfig());
        }

        long t = 0;
        long nextAudio = 0;
        byte configVersion = 1;
        for (var r = 0; r + 2 < Math.Min(runs.Length, 30); r += 3)
        {
            var gopFrames = 3 + (runs[r] % 90);
            var gops = 1 + (runs[r + 1] % 4);
            var flags = FrameFlags.None;
            switch (runs[r + 2] % 6)
            {
                case 0:
                    flags = FrameFlags.Discontinuity; // a new publisher, its timeline from 0
                    t = 0;
                    nextAudio = 0;
                    break;
                case 1:
                    h.Feed(VideoConfig(++configVersion, t));
                    break;
                case 2:
                    t += 20_000; // a jump forward
                    nextAudio = t;
                    break;
            }

            for (var i = 0; i < gopFrames * gops; i++, t += frameMs)
            {
                h.Feed(Video(t, key: i % gopFrames == 0, extra: i == 0 ? flags : FrameFlags.None));
                while (withAudio && nextAudio < t + frameMs)
                {
                    h.Feed(Audio(nextAudio));
                    nextAudio += 21;
                }

                checker.Check();
            }
        }

        h.Segmenter.Complete();
        checker.Check();
        return h.Stream.Playlist is null || h.Playlist.EndsWith("#EXT-X-ENDLIST\n", StringComparison.Ordinal)
            ? true
            : throw new InvalidOperationException("An ended playlist lacks EXT-X-ENDLIST:\n" + h.Playlist);
    }

    private sealed class Checker(SegmenterHarness h, int minimumTarget, int frameMs)
    {
        private byte[]? _last;
        private long _mediaSequence = -1;
        private long _discontinuitySequence;
        private int _target;

        public void Check()
        {
            var bytes = h.Stream.Playlist;
            if (bytes is null || ReferenceEquals(bytes, _last))
            {
                return;
            }

            _last = bytes;
            var text = Encoding.UTF8.GetString(bytes);
            var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var target = int.Parse(Value(lines, "#EXT-X-TARGETDURATION:")!, CultureInfo.InvariantCulture);
            var mediaSequence = long.Parse(Value(lines, "#EXT-X-MEDIA-SEQUENCE:")!, CultureInfo.InvariantCulture);
            var discontinuitySequence = Value(lines, "#EXT-X-DISCONTINUITY-SEQUENCE:") is { } d ? long.Parse(d, CultureInfo.InvariantCulture) : 0;
            Require(_target == 0 || target == _target, "target duration changed", text);
            Require(target >= minimumTarget, "target below ceil(SegmentDuration)", text);
            Require(mediaSequence >= _mediaSequence, "media sequence decreased", text);
            Require(discontinuitySequence >= _discontinuitySequence, "discontinuity sequence decreased", text);
            _target = target;
            _mediaSequence = mediaSequence;
            _discontinuitySequence = discontinuitySequence;

            var totalMs = 0L;
            var expectedSequence = mediaSequence;
            var overlong = false;
            for (var i = 0; i < lines.Length; i++)
            {
                if (!lines[i].StartsWith("#EXTINF:", StringComparison.Ordinal))
                {
                    continue;
                }

                var seconds = decimal.Parse(lines[i]["#EXTINF:".Length..^1], CultureInfo.InvariantCulture);
                totalMs += (long)(seconds * 1000);
                overlong |= Math.Round(seconds, MidpointRounding.AwayFromZero) > target;
                Require(lines[i + 1] == $"s1-{expectedSequence}.ts", "segment URIs not consecutive", text);
                expectedSequence++;
            }

            Require(!overlong, "EXTINF above target", text);
            Require(mediaSequence == 0 || totalMs >= 3000L * target, "slid window holds < 3 × target", text);
            var window = h.Stream.GetWindow().ToList();
            for (var i = 0; i < window.Count; i++)
            {
                var described = FakeSegmentMuxer.Describe(window[i].Buffer);
                Require(described.StartsWith("T V", StringComparison.Ordinal), "segment does not start with tables + video", described);
                if (!described.Split(' ')[1].EndsWith('k'))
                {
                    var split = !window[i].Discontinuity
                        && (i == 0 || window[i - 1].DurationMs + (SegmentationPolicy.SplitLookaheadFrames * frameMs) >= (target * 1000L) + 500)
                        && h.Diagnostics.Exists(x => x.Key == DiagnosticKeys.HlsKeyframeInterval);
                    Require(split, "segment starts between keyframes but follows no split", described + "\n" + text);
                }
            }
        }

        private static string? Value(string[] lines, string tag)
        {
            foreach (var line in lines)
            {
                if (line.StartsWith(tag, StringComparison.Ordinal))
                {
                    return line[tag.Length..];
                }
            }

            return null;
        }

        private static void Require(bool condition, string what, string context)
        {
            if (!condition)
            {
                throw new InvalidOperationException(what + ":\n" + context);
            }
        }
    }
}
