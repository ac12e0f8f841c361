using System.Diagnostics;
using System.Globalization;

namespace MediaServer.Tests.Infrastructure;

/// <summary>One segment of a media playlist, fetched and demuxed with <see cref="TsTestDemuxer"/>.</summary>
internal sealed record HlsSegmentMedia(string Uri, bool Discontinuity, double Duration, TsTestDemuxer Ts);

/// <summary>
/// Reads a server's HLS output back (media playlist and every segment) and checks its timeline the way a player
/// experiences it: per track, each segment starts where the previous one ended, and audio starts with video.
/// </summary>
internal static class HlsOutput
{
    private const long Wrap33 = 1L << 33;

    /// <summary>Polls the media playlist until it satisfies <paramref name="condition"/> (bounded by <paramref name="timeout"/>).</summary>
    public static async Task<string> WaitForPlaylistAsync(ServerProcess server, string key, Func<string, bool> condition, TimeSpan timeout)
    {
        var stopwatch = Stopwatch.StartNew();
        var last = "";
        while (stopwatch.Elapsed < timeout)
        {
            using var response = await server.Http.GetAsync(new Uri(server.MediaPlaylistUrl(key)));
            last = response.IsSuccessStatusCode ? await response.Content.ReadAsStringAsync() : "";
            if (condition(last))
            {
                return last;
            }

            await Task.Delay(200);
        }

        Assert.Fail($"playlist condition not met within {timeout}; last playlist:\n{last}\nserver log:\n{server.Log}");
        return last;
    }

    /// <summary>Every segment the playlist lists, in order, with its EXT-X-DISCONTINUITY flag and EXTINF.</summary>
    public static async Task<List<HlsSegmentMedia>> FetchSegmentsAsync(HttpClient http, string playlistUrl, string playlist)
    {
        var segments = new List<HlsSegmentMedia>();
        var discontinuity = false;
        var duration = 0.0;
        foreach (var line in playlist.Split('\n'))
        {
            if (line == "#EXT-X-DISCONTINUITY")
            {
                discontinuity = true;
            }
            else if (line.StartsWith("#EXTINF:", StringComparison.Ordinal))
            {
                duration = double.Parse(line["#EXTINF:".Length..].TrimEnd(','), CultureInfo.InvariantCulture);
            }
            else if (line.Length > 0 && !line.StartsWith('#'))
            {
                var uri = new Uri(new Uri(playlistUrl), line);
                var bytes = await http.GetByteArrayAsync(uri);
                segments.Add(new HlsSegmentMedia(line, discontinuity, duration, TsTestDemuxer.Parse(bytes)));
                discontinuity = false;
            }
        }

        return segments;
    }

    /// <summary>
    /// Problems with the timeline of <paramref name="segments"/> (empty when continuous): demuxer errors; per track,
    /// a gap or overlap between consecutive segments (not across EXT-X-DISCONTINUITY) larger than one frame of that
    /// track; audio and video start times in one segment further apart than one video frame (audio may start up to two
    /// audio frames late in the first segment with audio of a timeline: the publisher's own offset). PTS are unwrapped
    /// from 33 bits along the playlist.
    /// </summary>
    public static List<string> TimelineProblems(IReadOnlyList<HlsSegmentMedia> segments)
    {
        var problems = new List<string>();
        var tracks = new Dictionary<bool, TrackState>();
        TrackSpan? previousVideo = null;
        TrackSpan? previousAudio = null;
        var timelineHasAudio = false;
        foreach (var segment in segments)
        {
            problems.AddRange(segment.Ts.Errors.Select(e => $"{segment.Uri}: {e}"));
            if (segment.Ts.Pmts.Count == 0)
            {
                problems.Add($"{segment.Uri}: no PMT");
                continue;
            }

            TrackSpan? video = null;
            TrackSpan? audio = null;
            foreach (var (streamType, pid) in segment.Ts.Pmts[0].Streams)
            {
                var isVideo = streamType is 0x1B or 0x24;
                var isAudio = streamType is 0x0F or 0x03 or 0x04;
                if (!isVideo && !isAudio)
                {
                    continue;
                }

                if (!tracks.TryGetValue(isVideo, out var state))
                {
                    state = new TrackState();
                    tracks[isVideo] = state;
                }

                var span = Measure(segment.Ts.PesOn(pid).ToList(), isVideo, state);
                if (span is null)
                {
                    continue;
                }

                if (isVideo)
                {
                    video = span;
                }
                else
                {
                    audio = span;
                }
            }

            if (!segment.Discontinuity)
            {
                CheckJoin(problems, segment.Uri, "video", previousVideo, video);
                CheckJoin(problems, segment.Uri, "audio", previousAudio, audio);
            }

            // The first segment of a timeline starts where the publisher's audio does, which may be a little after its
            // video: ffmpeg shifts both tracks by its B-frame delay (2 frames, 67 ms) and its AAC starts 1024 samples of
            // priming (23 ms) before 0, so its first audio frame comes 44 ms after its first video frame. Allow two
            // audio frames there, later only; everywhere else the tracks are cut within one video frame.
            timelineHasAudio &= !segment.Discontinuity;
            var allowedLate = timelineHasAudio || audio is null ? video?.FrameTicks ?? 0 : Math.Max(video?.FrameTicks ?? 0, 2 * audio.FrameTicks);
            if (video is not null && audio is not null
                && (audio.Start - video.CutPoint > allowedLate + 90 || video.CutPoint - audio.Start > video.FrameTicks + 90))
            {
                problems.Add($"{segment.Uri}: video is cut at {video.CutPoint} but audio starts at {audio.Start} ({(audio.Start - video.CutPoint) / 90.0:0.#} ms apart, one video frame is {video.FrameTicks / 90.0:0.#} ms)");
            }

            timelineHasAudio |= audio is not null;

            previousVideo = video ?? previousVideo;
            previousAudio = audio ?? previousAudio;
        }

        return problems;
    }

    /// <summary>
    /// Everything a strict reader checks (RFC 8216 and ISO/IEC 13818-1), beyond <see cref="TimelineProblems"/>: per
    /// track, DTS strictly increasing inside every segment and PTS ≥ DTS; every EXTINF rounded to the nearest
    /// integer ≤ EXT-X-TARGETDURATION; EXT-X-INDEPENDENT-SEGMENTS (in <paramref name="playlist"/> or
    /// <paramref name="multivariant"/>) only when every segment starts with a video keyframe.
    /// </summary>
    public static List<string> StrictProblems(string playlist, IReadOnlyList<HlsSegmentMedia> segments, string? multivariant = null)
    {
        var problems = TimelineProblems(segments);
        var target = playlist.Split('\n').Where(l => l.StartsWith("#EXT-X-TARGETDURATION:", StringComparison.Ordinal))
            .Select(l => int.Parse(l["#EXT-X-TARGETDURATION:".Length..], CultureInfo.InvariantCulture)).FirstOrDefault();
        var claimsIndependent = playlist.Contains("#EXT-X-INDEPENDENT-SEGMENTS", StringComparison.Ordinal)
            || (multivariant?.Contains("#EXT-X-INDEPENDENT-SEGMENTS", StringComparison.Ordinal) ?? false);
        foreach (var segment in segments)
        {
            if (Math.Round(segment.Duration, MidpointRounding.AwayFromZero) > target)
            {
                problems.Add($"{segment.Uri}: EXTINF {segment.Duration:0.000} rounds above EXT-X-TARGETDURATION:{target}");
            }

            if (segment.Ts.Pmts.Count == 0)
            {
                continue;
            }

            foreach (var (streamType, pid) in segment.Ts.Pmts[0].Streams)
            {
                var state = new TrackState();
                long? previous = null;
                var isVideo = streamType is 0x1B or 0x24;
                var pes = segment.Ts.PesOn(pid).ToList();
                if (isVideo && claimsIndependent && pes.Count > 0 && !pes[0].RandomAccess)
                {
                    problems.Add($"{segment.Uri}: EXT-X-INDEPENDENT-SEGMENTS is claimed but the segment does not start with a keyframe");
                }

                foreach (var packet in pes)
                {
                    var pts = state.Unwrap(packet.Pts);
                    var dts = packet.Dts is { } d ? pts - Signed33(packet.Pts - d) : pts;
                    if (pts < dts)
                    {
                        problems.Add($"{segment.Uri}: PID {pid} PTS {pts} below its DTS {dts}");
                    }

                    if (previous is { } last && dts <= last)
                    {
                        problems.Add($"{segment.Uri}: PID {pid} DTS {dts} does not follow the previous {last} (not strictly increasing)");
                    }

                    previous = dts;
                }
            }
        }

        return problems;
    }

    /// <summary>Polls the media playlist until EXT-X-ENDLIST, returning it and every EXT-X-TARGETDURATION seen on the way.</summary>
    public static async Task<(string Playlist, HashSet<string> Targets)> WatchUntilEndAsync(ServerProcess server, string key, TimeSpan timeout)
    {
        var targets = new HashSet<string>(StringComparer.Ordinal);
        var playlist = await WaitForPlaylistAsync(server, key, p =>
        {
            foreach (var line in p.Split('\n'))
            {
                if (line.StartsWith("#EXT-X-TARGETDURATION:", StringComparison.Ordinal))
                {
                    targets.Add(line);
                }
            }

            return p.EndsWith("#EXT-X-ENDLIST\n", StringComparison.Ordinal);
        }, timeout);
        return (playlist, targets);
    }

    private static void CheckJoin(List<string> problems, string uri, string track, TrackSpan? previous, TrackSpan? current)
    {
        if (previous is null || current is null)
        {
            return;
        }

        var gap = current.Start - previous.End;
        if (Math.Abs(gap) > current.FrameTicks + 90)
        {
            problems.Add($"{uri}: {track} {(gap > 0 ? "gap" : "overlap")} of {Math.Abs(gap) / 90.0:0.#} ms after the previous segment (previous ends at {previous.End}, this starts at {current.Start}; one frame is {current.FrameTicks / 90.0:0.#} ms)");
        }
    }

    private static TrackSpan? Measure(List<TsTestDemuxer.Pes> pes, bool isVideo, TrackState state)
    {
        if (pes.Count == 0)
        {
            return null;
        }

        var pts = new List<long>(pes.Count);
        foreach (var packet in pes)
        {
            pts.Add(state.Unwrap(packet.Pts));
        }

        if (isVideo)
        {
            var sorted = pts.Order().ToList();
            var steps = sorted.Zip(sorted.Skip(1), (a, b) => b - a).Where(d => d > 0).Order().ToList();
            state.FrameTicks = steps.Count > 0 ? steps[steps.Count / 2] : state.FrameTicks;
            // Cut point: the first frame's decode time (its DTS, or its PTS when the PES has no DTS).
            var cut = pes[0].Dts is { } dts ? pts[0] - Signed33(pes[0].Pts - dts) : pts[0];
            return new TrackSpan(sorted[0], sorted[^1] + state.FrameTicks, state.FrameTicks, cut);
        }

        // Audio PES may carry several ADTS frames: the segment ends after the last PES's frames.
        var last = pes[^1].Data;
        var (frames, sampleRate) = CountAdts(last);
        if (sampleRate > 0)
        {
            state.FrameTicks = 1024L * 90_000 / sampleRate;
        }

        return new TrackSpan(pts.Min(), pts[^1] + (Math.Max(1, frames) * state.FrameTicks), state.FrameTicks, pts.Min());
    }

    private static (int Frames, int SampleRate) CountAdts(byte[] data)
    {
        int[] rates = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];
        var frames = 0;
        var rate = 0;
        for (var offset = 0; offset + 7 <= data.Length;)
        {
            if (data[offset] != 0xFF || (data[offset + 1] & 0xF0) != 0xF0)
            {
                break;
            }

            var index = (data[offset + 2] >> 2) & 0x0F;
            rate = index < rates.Length ? rates[index] : 0;
            var length = ((data[offset + 3] & 0x03) << 11) | (data[offset + 4] << 3) | (data[offset + 5] >> 5);
            if (length < 7)
            {
                break;
            }

            frames++;
            offset += length;
        }

        return (frames, rate);
    }

    /// <summary>A difference of two 33-bit timestamps as a signed value (the shorter way round).</summary>
    private static long Signed33(long difference)
    {
        var d = ((difference % Wrap33) + Wrap33) % Wrap33;
        return d >= Wrap33 / 2 ? d - Wrap33 : d;
    }

    /// <summary>A track's extent in one segment (unwrapped 90 kHz): first and past-the-last presentation time, and
    /// where the segment was cut on this track's decode timeline.</summary>
    private sealed record TrackSpan(long Start, long End, long FrameTicks, long CutPoint);

    private sealed class TrackState
    {
        private long? _last;

        public long FrameTicks { get; set; } = 3000;

        /// <summary>Maps a 33-bit PTS onto a 64-bit line, next to the previous one on this track.</summary>
        public long Unwrap(long raw)
        {
            if (_last is not { } last)
            {
                _last = raw;
                return raw;
            }

            _last = last + Signed33(raw - last);
            return _last.Value;
        }
    }
}
