using System.Diagnostics;
using MediaServer.Core.Media;
using MediaServer.Rtmp.Client;

namespace MediaServer.Benchmarks.Load;

/// <summary>When a publisher sent a video keyframe, and the frame before it (the last of the segment it closes).</summary>
/// <param name="Timestamp">Milliseconds from the first media frame (the RTMP timestamp sent).</param>
/// <param name="SentTicks">Stopwatch ticks when the keyframe's write completed.</param>
/// <param name="PreviousSentTicks">Stopwatch ticks when the frame before it was written.</param>
internal readonly record struct KeyframeSend(long Timestamp, long SentTicks, long PreviousSentTicks);

/// <summary>
/// One stream: publishes <see cref="LoadInput"/> through our <see cref="RtmpPublishClient"/>, looped, paced at
/// <c>speed</c> × media time (0 = no pacing), until the run stops or the media limit is reached.
/// </summary>
internal sealed class LoadPublisher(int index, string key, LoadInput input, LoadOptions options)
{
    private readonly List<KeyframeSend> _keyframes = [];
    private long _bytes;
    private long _mediaMs;

    public int Index { get; } = index;

    public string Key { get; } = key;

    /// <summary>Payload bytes written.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Media milliseconds written (the timestamp of the last frame).</summary>
    public long MediaMilliseconds => Interlocked.Read(ref _mediaMs);

    public string? Error { get; private set; }

    public bool Finished { get; private set; }

    /// <summary>Set once the publish has started (or failed).</summary>
    public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Stopwatch ticks of the latest keyframe write (the lag probe polls fast right after it).</summary>
    public long LastKeyframeTicks => Interlocked.Read(ref _lastKeyframeTicks);

    private long _lastKeyframeTicks;

    /// <summary>Released after each keyframe write (at most one pending): wakes the lag probe at once.</summary>
    public SemaphoreSlim KeyframeSignal { get; } = new(0, 1);

    /// <summary>The keyframe closest to <paramref name="timestamp"/> within <paramref name="tolerance"/> ms.</summary>
    public KeyframeSend? FindKeyframe(long timestamp, long tolerance)
    {
        lock (_keyframes)
        {
            var lo = 0;
            var hi = _keyframes.Count - 1;
            while (lo < hi)
            {
                var mid = (lo + hi) / 2;
                if (_keyframes[mid].Timestamp < timestamp)
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid;
                }
            }

            KeyframeSend? best = null;
            for (var i = Math.Max(0, lo - 1); i <= Math.Min(_keyframes.Count - 1, lo); i++)
            {
                var distance = Math.Abs(_keyframes[i].Timestamp - timestamp);
                if (distance <= tolerance && (best is null || distance < Math.Abs(best.Value.Timestamp - timestamp)))
                {
                    best = _keyframes[i];
                }
            }

            return best;
        }
    }

    public async Task RunAsync(bool recordKeyframes, CancellationToken cancellationToken)
    {
        RtmpPublishClient client;
        try
        {
            var target = RtmpPublishTarget.Parse(options.RtmpUrl, Key);
            client = await RtmpPublishClient.ConnectAsync(target, new RtmpClientOptions { ChunkSize = options.ChunkSize }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Error = $"publish {Key}: {ex.Message}";
            Started.TrySetResult();
            return;
        }
        catch (OperationCanceledException)
        {
            Started.TrySetResult();
            return;
        }

        await using (client.ConfigureAwait(false))
        {
            Started.TrySetResult();
            try
            {
                await PublishAsync(client, recordKeyframes, cancellationToken).ConfigureAwait(false);
                Finished = true;
                using var bye = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await client.UnpublishAsync(bye.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // The run is over.
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Error = $"publish {Key}: {ex.Message}";
            }
        }
    }

    private async Task PublishAsync(RtmpPublishClient client, bool recordKeyframes, CancellationToken cancellationToken)
    {
        foreach (var frame in input.Preamble)
        {
            await client.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
        }

        var limit = options.MediaDuration is { } d ? (long)d.TotalMilliseconds : long.MaxValue;
        var speed = options.Speed;
        var burstMs = (long)(options.Burst?.TotalMilliseconds ?? 0);
        var start = Stopwatch.GetTimestamp();
        var previousSent = start;
        for (long loop = 0; ; loop++)
        {
            var offset = loop * input.LoopDuration;
            foreach (var source in input.Media)
            {
                var timestamp = source.Timestamp + offset;
                if (timestamp >= limit)
                {
                    return;
                }

                if (speed > 0)
                {
                    var dueMs = burstMs > 0 ? (timestamp + burstMs - 1) / burstMs * burstMs : timestamp;
                    var due = start + (long)(dueMs / speed * Stopwatch.Frequency / 1000);
                    var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
                    if (wait > TimeSpan.FromMilliseconds(1))
                    {
                        await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
                    }
                }

                cancellationToken.ThrowIfCancellationRequested();
                await client.WriteAsync(source.WithTimestamp(timestamp), cancellationToken).ConfigureAwait(false);
                var sent = Stopwatch.GetTimestamp();
                if (recordKeyframes && source.IsVideo && source.IsKeyframe)
                {
                    lock (_keyframes)
                    {
                        _keyframes.Add(new KeyframeSend(timestamp, sent, previousSent));
                    }

                    Interlocked.Exchange(ref _lastKeyframeTicks, sent);
                    try
                    {
                        KeyframeSignal.Release();
                    }
                    catch (SemaphoreFullException)
                    {
                        // Already signalled.
                    }
                }

                previousSent = sent;
                Interlocked.Add(ref _bytes, source.Payload.Length);
                Interlocked.Exchange(ref _mediaMs, timestamp);
            }
        }
    }
}
