using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace MediaServer.Benchmarks.Load;

/// <summary>
/// The <c>load</c> verb: starts the HLS probes, the publishers, then the players and viewers; measures the server
/// process over a window that starts <c>--warmup</c> after every publisher connected and ends when the run's
/// duration is up or every publisher reached its media limit; then stops everything and reports.
/// </summary>
internal static class LoadRunner
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static int Run(string[] args)
    {
        if (args.Contains("--help") || args.Contains("-h"))
        {
            Console.WriteLine(LoadOptions.Help);
            return 0;
        }

        LoadOptions options;
        try
        {
            options = LoadOptions.Parse(args);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException)
        {
            Console.Error.WriteLine(ex.Message);
            Console.Error.WriteLine(LoadOptions.Help);
            return 2;
        }

        var report = RunAsync(options).GetAwaiter().GetResult();
        Print(report);
        if (options.JsonPath is { } path)
        {
            File.WriteAllText(path, JsonSerializer.Serialize(report, s_json));
        }

        return report.Errors.Count == 0 ? 0 : 1;
    }

    private static async Task<LoadReport> RunAsync(LoadOptions o)
    {
        using var input = LoadInput.Read(o.Input!);
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue, PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30) };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(10) };
        // Every loop ends by this token at the latest: the run's duration plus a grace period.
        using var hardStop = new CancellationTokenSource(o.Duration + TimeSpan.FromSeconds(30));
        using var clientsStop = CancellationTokenSource.CreateLinkedTokenSource(hardStop.Token);
        using var publishStop = CancellationTokenSource.CreateLinkedTokenSource(hardStop.Token);
        var runStart = Stopwatch.GetTimestamp();
        publishStop.CancelAfter(o.Duration);

        var sampler = o.Pid is { } pid ? new ProcessSampler(pid) : null;
        var baseline = sampler?.Read();
        var samplerTask = sampler?.RunAsync(TimeSpan.FromSeconds(1), clientsStop.Token) ?? Task.CompletedTask;

        Uri HlsUri(int stream) => new(o.HlsTemplate!.Replace("{key}", o.KeyOf(stream), StringComparison.Ordinal));
        var publishers = Enumerable.Range(0, o.Publishers).Select(i => new LoadPublisher(i, o.KeyOf(i), input, o)).ToArray();
        var probes = o.LagProbes ? publishers.Select(p => new LagProbe(new HlsPlaylistClient(http, HlsUri(p.Index)), p)).ToArray() : [];
        var checkPoll = o.Speed == 0 ? TimeSpan.FromMilliseconds(20) : TimeSpan.FromMilliseconds(Math.Clamp(2000 / o.Speed / 4, 10, 500));
        var checkers = o.CheckSegments ? publishers.Select(p => new SegmentChecker(new HlsPlaylistClient(http, HlsUri(p.Index)), checkPoll)).ToArray() : [];
        var clientTasks = new List<Task>();
        clientTasks.AddRange(probes.Select(p => p.RunAsync(clientsStop.Token)));
        clientTasks.AddRange(checkers.Select(c => c.RunAsync(clientsStop.Token)));

        var publisherTasks = publishers.Select(p => p.RunAsync(probes.Length > 0, publishStop.Token)).ToArray();
        await Task.WhenAny(Task.WhenAll(publishers.Select(p => p.Started.Task)), Task.Delay(TimeSpan.FromSeconds(30), hardStop.Token)).ConfigureAwait(false);
        Console.Error.WriteLine($"{o.Label}: {publishers.Count(p => p.Error is null)}/{publishers.Length} publishers started");

        var players = Enumerable.Range(0, o.Players).Select(i => new RtmpPlayer(o.RtmpUrl, o.KeyOf(i % o.Publishers))).ToArray();
        var viewers = Enumerable.Range(0, o.Viewers).Select(i => new HlsViewer(new HlsPlaylistClient(http, HlsUri(i % o.Publishers)))).ToArray();
        clientTasks.AddRange(players.Select(p => p.RunAsync(clientsStop.Token)));
        clientTasks.AddRange(viewers.Select(v => v.RunAsync(clientsStop.Token)));
        var firstAnswers = Enumerable.Range(0, o.Publishers).Select(_ => new System.Collections.Concurrent.ConcurrentDictionary<(long, int), long>()).ToArray();
        var llViewers = Enumerable.Range(0, o.LowLatencyViewers).Select(i => new LowLatencyViewer(http, HlsUri(i % o.Publishers), firstAnswers[i % o.Publishers])).ToArray();
        clientTasks.AddRange(llViewers.Select(v => v.RunAsync(clientsStop.Token)));

        var allPublished = Task.WhenAll(publisherTasks);
        await Task.WhenAny(allPublished, Task.Delay(o.Warmup)).ConfigureAwait(false);
        var windowStart = Snapshot(sampler, publishers);
        var metrics = ServerHistogram.MetricsUri(HlsUri(0));
        var blockedBefore = llViewers.Length == 0 ? null : await ServerHistogram.ReadAsync(http, metrics, BlockedAnswerMetric).ConfigureAwait(false);
        var remaining = o.Duration - Stopwatch.GetElapsedTime(runStart);
        if (remaining > TimeSpan.Zero)
        {
            await Task.WhenAny(allPublished, Task.Delay(remaining)).ConfigureAwait(false);
        }

        var windowEnd = Snapshot(sampler, publishers);
        var blocked = llViewers.Length == 0 ? null : (await ServerHistogram.ReadAsync(http, metrics, BlockedAnswerMetric).ConfigureAwait(false))?.Since(blockedBefore);
        await publishStop.CancelAsync().ConfigureAwait(false);
        await allPublished.ConfigureAwait(false);
        if (checkers.Length > 0)
        {
            // Let the checkers read the last segments the server closes when the publishers leave.
            await Task.Delay(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
        }

        await clientsStop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(clientTasks).ConfigureAwait(false);
        await samplerTask.ConfigureAwait(false);

        var report = Build(o, input, baseline, sampler, windowStart, windowEnd, publishers, probes, checkers, players, viewers);
        return llViewers.Length == 0 ? report : report with { LowLatencyViewers = LowLatencyFigures.Of(llViewers, firstAnswers, o.Publishers, blocked) };
    }

    /// <summary>Our server's histogram of blocked answers: from the awaited part being listed to the answer written.</summary>
    internal const string BlockedAnswerMetric = "mediaserver_hls_blocked_answer_seconds";

    private sealed record Mark(double Seconds, ProcessSample? Process, long Bytes, long MediaMilliseconds);

    private static Mark Snapshot(ProcessSampler? sampler, LoadPublisher[] publishers)
    {
        var process = sampler?.Read();
        return new Mark(Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency, process, publishers.Sum(p => p.Bytes), publishers.Sum(p => p.MediaMilliseconds));
    }

    private static LoadReport Build(LoadOptions o, LoadInput input, ProcessSample? baseline, ProcessSampler? sampler, Mark start, Mark end,
        LoadPublisher[] publishers, LagProbe[] probes, SegmentChecker[] checkers, RtmpPlayer[] players, HlsViewer[] viewers)
    {
        var seconds = end.Seconds - start.Seconds;
        var live = publishers.Count(p => p.Error is null);
        var mediaSeconds = (end.MediaMilliseconds - start.MediaMilliseconds) / 1000.0;
        var bytes = end.Bytes - start.Bytes;
        ServerFigures? server = null;
        if (sampler is not null && start.Process is { } a && end.Process is { } b && baseline is { } zero)
        {
            List<ProcessSample> samples;
            lock (sampler.Samples)
            {
                samples = [.. sampler.Samples];
            }

            var window = samples.Where(s => s.Seconds >= a.Seconds && s.Seconds <= b.Seconds).Select(s => (double)s.RssBytes).ToList();
            window.Add(b.RssBytes);
            var cpu = b.CpuMilliseconds - a.CpuMilliseconds;
            var rssMedian = Percentile(window, 50);
            var step = Math.Max(1, samples.Count / 60);
            server = new ServerFigures(
                CpuMilliseconds: cpu,
                CpuMsPerStreamSecond: live > 0 ? cpu / (live * seconds) : double.NaN,
                CpuMsPerMediaSecond: mediaSeconds > 0 ? cpu / mediaSeconds : double.NaN,
                IngestMBPerCpuSecond: cpu > 0 ? bytes / 1e6 / (cpu / 1000) : double.NaN,
                CpuUtilisation: cpu / 1000 / seconds,
                RssBaselineMB: zero.RssBytes / 1e6,
                RssStartMB: a.RssBytes / 1e6,
                RssMedianMB: rssMedian / 1e6,
                RssP99MB: Percentile(window, 99) / 1e6,
                RssMaxMB: window.Max() / 1e6,
                RssEndMB: b.RssBytes / 1e6,
                RssPerStreamMB: live > 0 ? (rssMedian - zero.RssBytes) / 1e6 / live : double.NaN,
                RssTimeline: [.. samples.Where((_, i) => i % step == 0).Select(s => new RssPoint(Math.Round(s.Seconds, 1), Math.Round(s.RssBytes / 1e6, 1)))]);
        }

        var closing = probes.SelectMany(p => p.AfterClosingKeyframe).ToList();
        var last = probes.SelectMany(p => p.AfterLastFrame).ToList();
        var windowBytes = probes.SelectMany(p => p.WindowBytes).ToList();
        var downloads = viewers.SelectMany(v => v.DownloadMilliseconds).ToList();
        var errors = publishers.Select(p => p.Error).Concat(players.Select(p => p.Error)).Concat(viewers.Select(v => v.Error))
            .Concat(probes.Select(p => p.Error)).Concat(checkers.Select(c => c.Error)).OfType<string>().Distinct().Take(20).ToList();
        return new LoadReport(
            Label: o.Label,
            Pid: o.Pid,
            Publishers: o.Publishers,
            PublishersLive: live,
            Players: o.Players,
            Viewers: o.Viewers,
            Speed: (o.Speed == 0 ? "fast" : o.Speed.ToString(CultureInfo.InvariantCulture) + "x")
                + (o.Burst is { } burst ? $" in {burst.TotalMilliseconds:0} ms bursts" : ""),
            InputBitRateMbps: Math.Round(input.BitRate / 1e6, 3),
            WindowSeconds: Math.Round(seconds, 2),
            MediaSeconds: Math.Round(mediaSeconds, 1),
            IngestMB: Math.Round(bytes / 1e6, 1),
            IngestMBPerSecond: Math.Round(bytes / 1e6 / seconds, 1),
            Server: server,
            BytesServedMB: Math.Round((viewers.Sum(v => v.Bytes) + players.Sum(p => p.Bytes) + probes.Sum(p => p.Bytes) + checkers.Sum(c => c.Bytes)) / 1e6, 1),
            ViewerBytesMB: Math.Round(viewers.Sum(v => v.Bytes) / 1e6, 1),
            PlayerBytesMB: Math.Round(players.Sum(p => p.Bytes) / 1e6, 1),
            Lag: probes.Length == 0 ? null : new LagFigures(closing.Count, Percentile(closing, 50), Percentile(closing, 99), closing.Count > 0 ? closing.Max() : double.NaN,
                Percentile(last, 50), Percentile(last, 99), probes.Sum(p => p.Unmatched), Percentile(windowBytes, 50) / 1e6),
            HlsViewers: viewers.Length == 0 ? null : new ViewerFigures(viewers.Length, viewers.Count(v => v.Behind), viewers.Sum(v => v.Missed), viewers.Max(v => v.MaxPending),
                viewers.Sum(v => v.Segments), Percentile(downloads, 50), Percentile(downloads, 99), viewers.Count(v => v.Error is not null)),
            RtmpPlayers: players.Length == 0 ? null : new PlayerFigures(players.Length, players.Count(p => p.Error is null && p.Messages > 0), players.Sum(p => p.Messages)),
            Segments: checkers.Length == 0 ? null : new SegmentFigures(checkers.Sum(c => c.Segments), checkers.Sum(c => c.Missed), checkers.Max(c => c.MaxAvOffset), checkers.Max(c => c.MaxAvDtsOffset),
                checkers[0].FirstAvOffset, checkers[0].LastAvOffset, checkers.Min(c => c.MinVideoStep), checkers.Max(c => c.MaxVideoStep),
                checkers.Min(c => c.MinAudioStep), checkers.Max(c => c.MaxAudioStep), checkers.Min(c => c.MinAudioGap), checkers.Max(c => c.MaxAudioGap)),
            Errors: errors);
    }

    /// <summary>Nearest-rank percentile; NaN for no values.</summary>
    public static double Percentile(List<double> values, double percentile)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.ToArray();
        Array.Sort(sorted);
        var rank = (int)Math.Ceiling(percentile / 100 * sorted.Length);
        return Math.Round(sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)], 3);
    }

    private static void Print(LoadReport r)
    {
        static string F(double v) => double.IsNaN(v) ? "-" : v.ToString("0.###", CultureInfo.InvariantCulture);
        var rows = new List<(string, string)>
        {
            ("run", $"{r.Label}: {r.PublishersLive}/{r.Publishers} publishers, {r.Players} RTMP players, {r.Viewers} HLS viewers, {r.Speed}, input {F(r.InputBitRateMbps)} Mbit/s"),
            ("window", $"{F(r.WindowSeconds)} s, {F(r.MediaSeconds)} s of media, {F(r.IngestMB)} MB ingested ({F(r.IngestMBPerSecond)} MB/s)"),
        };
        if (r.Server is { } s)
        {
            rows.Add(("server CPU", $"{F(s.CpuMilliseconds)} ms = {F(s.CpuUtilisation)} cores; {F(s.CpuMsPerStreamSecond)} ms per stream-second, {F(s.CpuMsPerMediaSecond)} ms per media-second"));
            rows.Add(("ingest per CPU", $"{F(s.IngestMBPerCpuSecond)} MB per CPU-second"));
            rows.Add(("server RSS MB", $"baseline {F(s.RssBaselineMB)}, window start {F(s.RssStartMB)}, median {F(s.RssMedianMB)}, p99 {F(s.RssP99MB)}, max {F(s.RssMaxMB)}, end {F(s.RssEndMB)}; per stream {F(s.RssPerStreamMB)}"));
        }

        rows.Add(("bytes served", $"{F(r.BytesServedMB)} MB (HLS viewers {F(r.ViewerBytesMB)}, RTMP players {F(r.PlayerBytesMB)})"));
        if (r.Lag is { } l)
        {
            rows.Add(("segment lag ms", $"after closing keyframe p50 {F(l.AfterKeyframeP50)} p99 {F(l.AfterKeyframeP99)} max {F(l.AfterKeyframeMax)}; after last frame p50 {F(l.AfterLastFrameP50)} p99 {F(l.AfterLastFrameP99)} ({l.Samples} segments, {l.Unmatched} unmatched)"));
            rows.Add(("HLS window", $"{F(l.WindowMBMedian)} MB per stream (median bytes of the segments listed in a playlist)"));
        }

        if (r.LowLatencyViewers is { } ll)
        {
            rows.Add(("LL-HLS viewers", $"{ll.Behind}/{ll.Count} behind, {ll.Answers} blocked answers, {ll.Parts} parts, answer after the part's first answer p50 {F(ll.FanoutP50Ms)} ms p99 {F(ll.FanoutP99Ms)} ms, part download p50 {F(ll.PartP50Ms)} ms p99 {F(ll.PartP99Ms)} ms, {ll.Failed} failed"));
            rows.Add(("LL-HLS server", ll.ServerBlockedAnswers == 0 ? "no /metrics histogram" : $"{ll.ServerBlockedAnswers} blocked answers in the window, part listed -> answer written p50 {F(ll.ServerBlockedP50Ms)} ms p99 {F(ll.ServerBlockedP99Ms)} ms, {F(ll.ServerWithin50MsShare * 100)} % within 50 ms"));
        }

        if (r.HlsViewers is { } v)
        {
            rows.Add(("HLS viewers", $"{v.Behind}/{v.Count} behind, {v.MissedSegments} segments missed, max pending {v.MaxPending}, {v.Segments} segments, download p50 {F(v.DownloadP50Ms)} ms p99 {F(v.DownloadP99Ms)} ms, {v.Failed} failed"));
        }

        if (r.RtmpPlayers is { } p)
        {
            rows.Add(("RTMP players", $"{p.Playing}/{p.Count} playing, {p.Messages} messages"));
        }

        if (r.Segments is { } g)
        {
            rows.Add(("segments", $"{g.Checked} checked, {g.Missed} missed; A/V start offset (audio PTS - video PTS) max {F(g.MaxAvOffsetMs)} ms (first {F(g.FirstAvOffsetMs)}, last {F(g.LastAvOffsetMs)}), against video DTS max {F(g.MaxAvOffsetToVideoDtsMs)} ms; video step {F(g.MinVideoStepMs)}..{F(g.MaxVideoStepMs)} ms; audio PES step {F(g.MinAudioStepMs)}..{F(g.MaxAudioStepMs)} ms, audio gap (+) / overlap (-) at joins {F(g.MinAudioGapMs)}..{F(g.MaxAudioGapMs)} ms"));
        }

        foreach (var error in r.Errors)
        {
            rows.Add(("error", error));
        }

        var width = rows.Max(x => x.Item1.Length);
        foreach (var (name, value) in rows)
        {
            Console.WriteLine($"{name.PadRight(width)}  {value}");
        }
    }
}

internal sealed record RssPoint(double Seconds, double RssMB);

internal sealed record ServerFigures(double CpuMilliseconds, double CpuMsPerStreamSecond, double CpuMsPerMediaSecond, double IngestMBPerCpuSecond, double CpuUtilisation,
    double RssBaselineMB, double RssStartMB, double RssMedianMB, double RssP99MB, double RssMaxMB, double RssEndMB, double RssPerStreamMB, List<RssPoint> RssTimeline);

internal sealed record LagFigures(int Samples, double AfterKeyframeP50, double AfterKeyframeP99, double AfterKeyframeMax, double AfterLastFrameP50, double AfterLastFrameP99, int Unmatched,
    double WindowMBMedian);

internal sealed record ViewerFigures(int Count, int Behind, long MissedSegments, int MaxPending, long Segments, double DownloadP50Ms, double DownloadP99Ms, int Failed);

internal sealed record PlayerFigures(int Count, int Playing, long Messages);

internal sealed record SegmentFigures(long Checked, long Missed, double MaxAvOffsetMs, double MaxAvOffsetToVideoDtsMs, double FirstAvOffsetMs, double LastAvOffsetMs,
    double MinVideoStepMs, double MaxVideoStepMs, double MinAudioStepMs, double MaxAudioStepMs, double MinAudioGapMs, double MaxAudioGapMs);

internal sealed record LoadReport(string Label, int? Pid, int Publishers, int PublishersLive, int Players, int Viewers, string Speed, double InputBitRateMbps,
    double WindowSeconds, double MediaSeconds, double IngestMB, double IngestMBPerSecond, ServerFigures? Server, double BytesServedMB, double ViewerBytesMB,
    double PlayerBytesMB, LagFigures? Lag, ViewerFigures? HlsViewers, PlayerFigures? RtmpPlayers, SegmentFigures? Segments, List<string> Errors)
{
    public LowLatencyFigures? LowLatencyViewers { get; init; }
}

/// <summary>LL-HLS viewers: how many fell behind, and how long after the first answer for a part the others came
/// (the server releasing its waiting requests), with the part downloads.</summary>
/// <para>The server-side figures come from its <c>/metrics</c> histogram (bucket resolution), over the measured window.</para>
internal sealed record LowLatencyFigures(int Count, int Behind, long Answers, long Parts, double FanoutP50Ms, double FanoutP99Ms, double PartP50Ms, double PartP99Ms, int Failed,
    double ServerBlockedAnswers, double ServerBlockedP50Ms, double ServerBlockedP99Ms, double ServerWithin50MsShare)
{
    public static LowLatencyFigures Of(LowLatencyViewer[] viewers, System.Collections.Concurrent.ConcurrentDictionary<(long, int), long>[] firstAnswers, int streams, ServerHistogram? blocked)
    {
        var fanout = new List<double>();
        for (var i = 0; i < viewers.Length; i++)
        {
            var first = firstAnswers[i % streams];
            foreach (var (part, at) in viewers[i].Arrivals)
            {
                if (first.TryGetValue(part, out var earliest))
                {
                    fanout.Add((at - earliest) * 1000.0 / System.Diagnostics.Stopwatch.Frequency);
                }
            }
        }

        var parts = viewers.SelectMany(v => v.PartMilliseconds).ToList();
        return new LowLatencyFigures(viewers.Length, viewers.Count(v => v.Behind), viewers.Sum(v => v.Answers), viewers.Sum(v => v.Parts),
            LoadRunner.Percentile(fanout, 50), LoadRunner.Percentile(fanout, 99), LoadRunner.Percentile(parts, 50), LoadRunner.Percentile(parts, 99),
            viewers.Count(v => v.Error is not null),
            blocked?.Count ?? 0, (blocked?.Quantile(0.5) ?? double.NaN) * 1000, (blocked?.Quantile(0.99) ?? double.NaN) * 1000, blocked?.ShareAtOrBelow(0.05) ?? double.NaN);
    }
}
