using System.Diagnostics;

namespace MediaServer.Benchmarks.Load;

/// <summary>
/// An HLS viewer with a player's cadence (RFC 8216 §6.3.4): starts three segments from the live end, downloads
/// every new segment in order, reloads after one target duration when the playlist changed and half of one when
/// it did not. It is <em>behind</em> when a segment it still needed left the playlist, or when it found more
/// than three segments waiting (more than a player's buffer) after its first load.
/// </summary>
internal sealed class HlsViewer(HlsPlaylistClient playlist)
{
    public long Segments { get; private set; }

    public long Missed { get; private set; }

    public int MaxPending { get; private set; }

    public bool Behind { get; private set; }

    public string? Error { get; private set; }

    public List<double> DownloadMilliseconds { get; } = [];

    public long Bytes => playlist.Bytes;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var buffer = new[] { new byte[1 << 20] };
        long next = -1;
        var first = true;
        try
        {
            // Spread the viewers over one target duration, as real players arrive.
            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(2000)), cancellationToken).ConfigureAwait(false);
            while (!cancellationToken.IsCancellationRequested)
            {
                var view = await playlist.FetchAsync(cancellationToken).ConfigureAwait(false);
                if (view is null || view.Segments.Count == 0)
                {
                    await Task.Delay(500, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                if (next < 0)
                {
                    next = Math.Max(view.MediaSequence, view.NextSequence - 3);
                }

                if (next < view.MediaSequence)
                {
                    Missed += view.MediaSequence - next;
                    Behind = true;
                    next = view.MediaSequence;
                }

                var pending = (int)(view.NextSequence - next);
                MaxPending = Math.Max(MaxPending, first ? 0 : pending);
                if (!first && pending > 3)
                {
                    Behind = true;
                }

                first = false;
                var changed = pending > 0;
                foreach (var segment in view.Segments)
                {
                    if (segment.Sequence < next)
                    {
                        continue;
                    }

                    var started = Stopwatch.GetTimestamp();
                    await playlist.GetSegmentAsync(segment.Uri, headOnly: false, buffer, cancellationToken).ConfigureAwait(false);
                    DownloadMilliseconds.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    Segments++;
                    next = segment.Sequence + 1;
                }

                if (view.Ended)
                {
                    return;
                }

                await Task.Delay(TimeSpan.FromSeconds(changed ? view.TargetDuration : view.TargetDuration / 2), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or InvalidDataException or OperationCanceledException)
        {
            Error = ex.Message;
            Behind = true;
        }
    }
}

/// <summary>
/// Segment availability lag of one stream. Polls the playlist every 5 ms for a second after each keyframe the
/// publisher sends (when a server closes a segment; the publisher wakes the probe) and every 250 ms otherwise. For each new segment it reads the
/// head of the TS for the first video DTS; the segment's end in media time is that DTS (relative to the stream's
/// first segment) plus its EXTINF, which is the timestamp of the keyframe that closed it. Lag = when the segment
/// was first listed (the start of the poll that saw it) minus when the publisher finished writing that keyframe,
/// and minus when it wrote the frame before it (the segment's last frame).
/// </summary>
internal sealed class LagProbe(HlsPlaylistClient playlist, LoadPublisher publisher)
{
    public List<double> AfterClosingKeyframe { get; } = [];

    public List<double> AfterLastFrame { get; } = [];

    /// <summary>Bytes of the segments listed in the playlist, once per poll that saw a new segment (each size known).</summary>
    public List<double> WindowBytes { get; } = [];

    public int Unmatched { get; private set; }

    public string? Error { get; private set; }

    public long Bytes => playlist.Bytes;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var buffer = new[] { new byte[64 * 1024] };
        long next = -1;
        long firstDts = -1;
        long lastNew = 0;
        var sizes = new Dictionary<long, long>();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var polled = Stopwatch.GetTimestamp();
                var view = await playlist.FetchAsync(cancellationToken).ConfigureAwait(false);
                // Segments already listed on the first load appeared at unknown times: calibration only.
                var initial = next < 0;
                foreach (var segment in view?.Segments ?? [])
                {
                    if (segment.Sequence < next)
                    {
                        continue;
                    }

                    next = segment.Sequence + 1;
                    lastNew = polled;
                    if (firstDts >= 0 && initial)
                    {
                        continue;
                    }

                    var (length, size) = await playlist.GetSegmentWithSizeAsync(segment.Uri, headOnly: true, buffer, cancellationToken).ConfigureAwait(false);
                    if (size is { } known)
                    {
                        sizes[segment.Sequence] = known;
                        if (view!.Segments.All(s => sizes.ContainsKey(s.Sequence)))
                        {
                            WindowBytes.Add(view.Segments.Sum(s => sizes[s.Sequence]));
                        }
                    }

                    var scan = TsScan.Read(buffer[0].AsSpan(0, length));
                    if (scan.FirstVideoDts < 0)
                    {
                        Unmatched++;
                        continue;
                    }

                    if (firstDts < 0)
                    {
                        // The first segment the probe sees starts at the stream's first keyframe (timestamp 0): the
                        // probe runs before the publisher sends anything.
                        firstDts = scan.FirstVideoDts;
                    }

                    if (initial)
                    {
                        continue;
                    }

                    var end = ((scan.FirstVideoDts - firstDts) / 90) + (long)Math.Round(segment.Duration * 1000);
                    if (publisher.FindKeyframe(end, 500) is { } keyframe)
                    {
                        AfterClosingKeyframe.Add(Stopwatch.GetElapsedTime(keyframe.SentTicks, polled).TotalMilliseconds);
                        AfterLastFrame.Add(Stopwatch.GetElapsedTime(keyframe.PreviousSentTicks, polled).TotalMilliseconds);
                    }
                    else
                    {
                        Unmatched++;
                    }
                }

                if (view is not null && view.Segments.Count == 0 && next < 0)
                {
                    next = view.MediaSequence;
                }

                // Fast while a keyframe sent in the last second has not yet shown up as a new segment.
                var lastKeyframe = publisher.LastKeyframeTicks;
                var waiting = lastKeyframe != 0 && Stopwatch.GetElapsedTime(lastKeyframe) < TimeSpan.FromSeconds(1) && lastNew < lastKeyframe;
                if (waiting)
                {
                    await Task.Delay(5, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    // Until the publisher's next keyframe (or 250 ms), so a closing keyframe is never polled late.
                    await publisher.KeyframeSignal.WaitAsync(250, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or InvalidDataException or OperationCanceledException)
        {
            Error = ex.Message;
        }
    }
}

/// <summary>
/// Reads every segment of one stream (long runs): polls the playlist often enough not to miss any at the publish
/// speed, downloads each segment whole and demuxes it. Per segment: first audio PTS minus first video PTS (the
/// A/V offset); between segments: the first video DTS minus the previous segment's last video DTS, and the same
/// for audio PTS (a gap or overlap shows as a step away from one frame interval).
/// </summary>
internal sealed class SegmentChecker(HlsPlaylistClient playlist, TimeSpan pollInterval)
{
    public long Segments { get; private set; }

    public long Missed { get; private set; }

    public long Discontinuities { get; private set; }

    /// <summary>Largest |first audio PTS − first video PTS| of a segment, ms.</summary>
    public double MaxAvOffset { get; private set; }

    public double FirstAvOffset { get; private set; } = double.NaN;

    /// <summary>Largest |first audio PTS − first video DTS| of a segment, ms (without the video's composition offset).</summary>
    public double MaxAvDtsOffset { get; private set; }

    public double LastAvOffset { get; private set; } = double.NaN;

    /// <summary>Largest step between a segment's first video DTS and the previous segment's last, ms.</summary>
    public double MaxVideoStep { get; private set; }

    public double MinVideoStep { get; private set; } = double.MaxValue;

    public double MaxAudioStep { get; private set; }

    public double MinAudioStep { get; private set; } = double.MaxValue;

    /// <summary>First audio PTS of a segment minus the end of the previous segment's last audio PES (its ADTS
    /// frames counted), ms: positive is a gap, negative an overlap; 0 is a seamless join.</summary>
    public double MaxAudioGap { get; private set; } = double.MinValue;

    public double MinAudioGap { get; private set; } = double.MaxValue;

    public string? Error { get; private set; }

    public long Bytes => playlist.Bytes;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var buffer = new[] { new byte[4 << 20] };
        long next = -1;
        var previous = default(TsScan);
        var havePrevious = false;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var view = await playlist.FetchAsync(cancellationToken).ConfigureAwait(false);
                foreach (var segment in view?.Segments ?? [])
                {
                    if (segment.Sequence < next)
                    {
                        continue;
                    }

                    if (next >= 0 && segment.Sequence > next)
                    {
                        Missed += segment.Sequence - next;
                        havePrevious = false;
                    }

                    next = segment.Sequence + 1;
                    var length = await playlist.GetSegmentAsync(segment.Uri, headOnly: false, buffer, cancellationToken).ConfigureAwait(false);
                    var scan = TsScan.Read(buffer[0].AsSpan(0, length));
                    Segments++;
                    if (scan.FirstVideoPts >= 0 && scan.FirstAudioPts >= 0)
                    {
                        var offset = (scan.FirstAudioPts - scan.FirstVideoPts) / 90.0;
                        MaxAvOffset = Math.Max(MaxAvOffset, Math.Abs(offset));
                        MaxAvDtsOffset = Math.Max(MaxAvDtsOffset, Math.Abs((scan.FirstAudioPts - scan.FirstVideoDts) / 90.0));
                        FirstAvOffset = double.IsNaN(FirstAvOffset) ? offset : FirstAvOffset;
                        LastAvOffset = offset;
                    }

                    if (havePrevious && previous.LastVideoDts >= 0 && scan.FirstVideoDts >= 0)
                    {
                        var step = (scan.FirstVideoDts - previous.LastVideoDts) / 90.0;
                        MaxVideoStep = Math.Max(MaxVideoStep, step);
                        MinVideoStep = Math.Min(MinVideoStep, step);
                    }

                    if (havePrevious && previous.LastAudioPts >= 0 && scan.FirstAudioPts >= 0)
                    {
                        var step = (scan.FirstAudioPts - previous.LastAudioPts) / 90.0;
                        MaxAudioStep = Math.Max(MaxAudioStep, step);
                        MinAudioStep = Math.Min(MinAudioStep, step);
                    }

                    if (havePrevious && previous.LastAudioEnd >= 0 && scan.FirstAudioPts >= 0)
                    {
                        var gap = (scan.FirstAudioPts - previous.LastAudioEnd) / 90.0;
                        MaxAudioGap = Math.Max(MaxAudioGap, gap);
                        MinAudioGap = Math.Min(MinAudioGap, gap);
                    }

                    previous = scan;
                    havePrevious = true;
                }

                if (view is not null && next < 0)
                {
                    next = view.MediaSequence;
                }

                if (view?.Ended == true)
                {
                    return;
                }

                await Task.Delay(pollInterval, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or InvalidDataException or OperationCanceledException)
        {
            Error = ex.Message;
        }
    }
}
