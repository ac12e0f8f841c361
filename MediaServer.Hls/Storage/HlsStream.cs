using System.Security.Cryptography;
using MediaServer.Core.Codecs;
using MediaServer.Hls.Playlists;

namespace MediaServer.Hls.Storage;

/// <summary>What a blocking playlist request (<c>_HLS_msn</c>/<c>_HLS_part</c>) should do now.</summary>
public enum PlaylistWait : byte
{
    /// <summary>The playlist holds what was asked for (or the stream ended): answer.</summary>
    Ready,

    /// <summary>Not yet: wait for <see cref="HlsStream.Changed"/>.</summary>
    Wait,

    /// <summary>Asked for a segment beyond the next two: 400.</summary>
    TooFar,
}

/// <summary>
/// The HLS side of one live stream: its window of complete segments, the segments recently removed from
/// it (still downloadable for <see cref="HlsOptions.RetainRemovedSegmentsFor"/>, at most 2 × (PlaylistLength + 1) of them), the rendered playlist
/// and whether the stream ended.
/// </summary>
/// <remarks>
/// One writer (the stream's segmenter) and any number of readers (HTTP requests). Mutations and segment
/// look-ups take a short lock; the rendered playlist is an immutable array swapped atomically, so serving
/// it takes no lock. Segment bytes are read under a lease (<see cref="TryAcquireSegment"/>).
/// </remarks>
public sealed class HlsStream : IDisposable
{
    private readonly HlsOptions _options;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly List<HlsSegment> _window = [];
    private readonly List<SegmentPart> _openParts = [];
    private readonly Queue<(HlsSegment Segment, long ExpiresAt)> _removed = new();
    private long _windowDurationMs;
    private long _mediaSequence;
    private long _discontinuitySequence;
    private long _nextSequence;
    private int _targetDuration;
    private byte[]? _playlist;
    private byte[]? _multivariantPlaylist;
    private CodecDescription _video;
    private CodecDescription _audio;
    private long _peakBitrate;
    private bool _ended;
    private long _endedAt;
    private bool _disposed;
    private ChangeSignal _changed = new();

    private long _requestedAt = Environment.TickCount64;
    private HlsStream? _sibling;          // the stream's other rendition (the other container), reported in LL playlists
    private LastPart? _lastPart;          // this rendition's newest part, for the sibling's EXT-X-RENDITION-REPORT

    private readonly Dictionary<int, byte[]> _initSegments = [];
    private int _initVersion;

    /// <param name="firstSequenceNumber">
    /// The media sequence number of the first segment: 0 for a new stream; a rendition started while the stream is
    /// already live continues its sibling's numbering, so both report about the same LAST-MSN.
    /// </param>
    public HlsStream(string streamId, HlsOptions options, TimeProvider? timeProvider = null, string? sessionId = null, HlsContainer container = HlsContainer.Ts, long firstSequenceNumber = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(firstSequenceNumber);
        _mediaSequence = _nextSequence = firstSequenceNumber;
        Container = container;
        ArgumentException.ThrowIfNullOrEmpty(streamId);
        StreamId = streamId;
        _options = options;
        _time = timeProvider ?? TimeProvider.System;
        SessionId = sessionId ?? NewSessionId();
        PartTargetMs = options.PartDuration is { } part ? (long)part.TotalMilliseconds : 0;
    }

    /// <summary>The segment container of this rendition.</summary>
    public HlsContainer Container { get; }

    /// <summary>
    /// Makes <paramref name="other"/> (the same stream in the other container) and this stream report each other in
    /// their low-latency playlists (EXT-X-RENDITION-REPORT), so a player can switch with a blocking request.
    /// </summary>
    public void LinkRendition(HlsStream other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (ReferenceEquals(other, this) || other.Container == Container || other.StreamId != StreamId)
        {
            throw new ArgumentException("A rendition report links the two containers of one stream.", nameof(other));
        }

        Volatile.Write(ref _sibling, other);
        Volatile.Write(ref other._sibling, this);
    }

    /// <summary>Notes a request for this rendition (playlist, segment, part): an on-demand rendition lives while requested.</summary>
    public void Touch() => Volatile.Write(ref _requestedAt, Environment.TickCount64);

    /// <summary>How long since the last <see cref="Touch"/> (or since the stream was made).</summary>
    public TimeSpan Unrequested => TimeSpan.FromMilliseconds(Environment.TickCount64 - Volatile.Read(ref _requestedAt));

    /// <summary>Whether the video track is HEVC (served as fMP4 by default, as Apple requires).</summary>
    public bool IsHevc
    {
        get
        {
            lock (_lock)
            {
                return _video.Codec is { } codec && (codec.StartsWith("hvc1", StringComparison.Ordinal) || codec.StartsWith("hev1", StringComparison.Ordinal));
            }
        }
    }

    /// <summary>
    /// Records a new initialization segment (fMP4): segments added from now on name <paramref name="version"/> in
    /// EXT-X-MAP. The last few versions stay servable for the segments still listed.
    /// </summary>
    public void SetInitSegment(int version, byte[] bytes)
    {
        lock (_lock)
        {
            _initSegments[version] = bytes;
            _initVersion = version;
            foreach (var old in _initSegments.Keys.Where(v => v < version - 3).ToList())
            {
                _initSegments.Remove(old);
            }
        }
    }

    /// <summary>An initialization segment by version (fMP4).</summary>
    public byte[]? FindInitSegment(int version)
    {
        lock (_lock)
        {
            return _initSegments.GetValueOrDefault(version);
        }
    }

    /// <summary>The LL-HLS part target in milliseconds, fixed for the stream; 0 for classic HLS.</summary>
    public long PartTargetMs { get; }

    /// <summary>
    /// Completes at the next change (a part, a segment, the end): what a blocked playlist or part request awaits.
    /// One signal per stream, replaced at each change, so waiting requests cost no thread and no poll.
    /// </summary>
    public Task Changed => Volatile.Read(ref _changed).Task;

    /// <summary>The signal <see cref="Changed"/> completes with, which also says when the change happened.</summary>
    internal ChangeSignal NextChange => Volatile.Read(ref _changed);

    public string StreamId { get; }

    /// <summary>
    /// A random id for this run of the stream, part of every segment name (<c>{session}-{seq}.ts</c>).
    /// A stream id republished later gets a new session, so a segment URL never names two different
    /// contents and segments can be cached as immutable.
    /// </summary>
    public string SessionId { get; }

    /// <summary>EXT-X-TARGETDURATION in seconds, 0 until the first segment is complete; then constant.</summary>
    public int TargetDuration => Volatile.Read(ref _targetDuration);

    public bool IsEnded => Volatile.Read(ref _ended);

    /// <summary>
    /// Raised after a segment joined the window, outside the stream's lock, on the segmenter's thread.
    /// Handlers must return quickly; to keep the bytes, take a lease (<see cref="SegmentBuffer.TryAcquire"/>)
    /// and release it when done. The recorder writes segments to disk this way, with no second mux.
    /// </summary>
    public event Action<HlsStream, HlsSegment>? SegmentAdded;

    /// <summary>Raised once when the stream ends (EXT-X-ENDLIST) or is removed without ending.</summary>
    public event Action<HlsStream>? Ended;

    /// <summary>The file name of the media playlist, next to the multivariant <c>index.m3u8</c>.</summary>
    public const string MediaPlaylistName = "stream.m3u8";

    /// <summary>The rendered media playlist, or null before the first segment is complete.</summary>
    public byte[]? Playlist => Volatile.Read(ref _playlist);

    /// <summary>The rendered one-variant multivariant playlist pointing at <see cref="MediaPlaylistName"/>,
    /// or null before the first segment is complete.</summary>
    public byte[]? MultivariantPlaylist => Volatile.Read(ref _multivariantPlaylist);

    /// <summary>
    /// Records what a track's decoder configuration says (codec string, picture size) for the multivariant
    /// playlist's CODECS and RESOLUTION. Called by the segmenter when a track's configuration changes.
    /// </summary>
    public void DescribeTrack(bool video, CodecDescription description)
    {
        lock (_lock)
        {
            if (video)
            {
                _video = description;
            }
            else
            {
                _audio = description;
            }

            if (_targetDuration > 0 && !_disposed)
            {
                Volatile.Write(ref _multivariantPlaylist, RenderMultivariantCore(null));
            }
        }
    }

    /// <summary>Media sequence number of the first segment in the window.</summary>
    public long MediaSequence
    {
        get
        {
            lock (_lock)
            {
                return _mediaSequence;
            }
        }
    }

    /// <summary>The sequence number the next added segment gets.</summary>
    public long NextSequenceNumber
    {
        get
        {
            lock (_lock)
            {
                return _nextSequence;
            }
        }
    }

    /// <summary>A copy of the window (tests, status).</summary>
    public HlsSegment[] GetWindow()
    {
        lock (_lock)
        {
            return [.. _window];
        }
    }

    /// <summary>
    /// Adds a complete segment (its buffer's reference passes to this stream), slides the window and
    /// re-renders the playlist. <paramref name="targetDuration"/> is fixed by the first call. Returns null
    /// (releasing the buffer) when the stream was already removed from the store, e.g. replaced by a
    /// republish while its last segments were still being written.
    /// </summary>
    public HlsSegment? AddSegment(int targetDuration, long durationMs, bool discontinuity, DateTimeOffset programDateTime, SegmentBuffer buffer, SegmentPart[]? parts = null, int initVersion = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(targetDuration, 1);
        buffer.Complete();
        HlsSegment segment;
        lock (_lock)
        {
            if (_disposed)
            {
                buffer.Release();
                return null;
            }

            if (_ended)
            {
                buffer.Release();
                throw new InvalidOperationException("The HLS stream has ended.");
            }

            if (_targetDuration == 0)
            {
                Volatile.Write(ref _targetDuration, targetDuration);
            }

            segment = new HlsSegment(_nextSequence++, durationMs, discontinuity, programDateTime, buffer) { Parts = parts ?? [], InitVersion = initVersion };
            _openParts.RemoveAll(p => p.Buffer == buffer);
            _peakBitrate = Math.Max(_peakBitrate, BitsPerSecond(buffer.Length, durationMs));
            _window.Add(segment);
            _windowDurationMs += durationMs;
            SlideWindow();
            ExpireRemoved(_time.GetTimestamp());
            PublishLastPart();
            Render();
        }

        Signal();
        RefreshSibling();
        SegmentAdded?.Invoke(this, segment);
        return segment;
    }

    /// <summary>
    /// Adds a completed part of the segment being built (LL-HLS): it can be served before its segment is complete.
    /// The segment, when added, brings its parts along (<see cref="AddSegment"/>); the open ones then go.
    /// </summary>
    public void AddPart(in SegmentPart part)
    {
        lock (_lock)
        {
            if (_openParts.Count > 0 && _openParts[0].Buffer != part.Buffer)
            {
                _openParts.Clear(); // the segment they belonged to was discarded, never added
            }

            _openParts.Add(part);
            PublishLastPart();
            if (PartTargetMs > 0 && _targetDuration > 0 && !_disposed)
            {
                Volatile.Write(ref _playlist, RenderCore(null));
            }
        }

        Signal();
        RefreshSibling();
    }

    // Under the lock: the newest part (RFC 8216bis §4.4.5.4 LAST-MSN/LAST-PART), of the open segment or else the last one.
    private void PublishLastPart()
    {
        LastPart? last = _openParts.Count > 0 ? new(_openParts[0].SegmentSequenceNumber, _openParts.Count - 1)
            : _window.Count > 0 ? new(_window[^1].SequenceNumber, _window[^1].Parts.Count - 1)
            : null;
        Volatile.Write(ref _lastPart, last);
    }

    // The sibling's playlist reports this rendition: re-render it so its report is as current as its own parts. It reads
    // our state without our lock, so the two locks are never held together.
    private void RefreshSibling()
    {
        if (Volatile.Read(ref _sibling) is not { PartTargetMs: > 0 } sibling)
        {
            return;
        }

        lock (sibling._lock)
        {
            if (sibling._targetDuration > 0 && !sibling._disposed && !sibling._ended)
            {
                Volatile.Write(ref sibling._playlist, sibling.RenderCore(null));
            }
        }
    }

    /// <summary>The completed parts of the segment being built.</summary>
    public SegmentPart[] GetOpenParts()
    {
        lock (_lock)
        {
            return [.. _openParts];
        }
    }

    /// <summary>Marks the stream ended: the playlist gets EXT-X-ENDLIST and the window stops sliding.</summary>
    public void MarkEnded()
    {
        lock (_lock)
        {
            if (_ended)
            {
                return;
            }

            _ended = true;
            _endedAt = _time.GetTimestamp();
            if (_targetDuration > 0)
            {
                Render();
            }
        }

        Signal();
        RefreshSibling(); // it stops reporting this rendition
        Ended?.Invoke(this);
    }

    /// <summary>True when the stream ended at least <paramref name="retention"/> ago.</summary>
    public bool EndedLongerThan(TimeSpan retention)
    {
        lock (_lock)
        {
            return _ended && _time.GetElapsedTime(_endedAt) >= retention;
        }
    }

    /// <summary>Drops removed segments whose retention expired (also done on every added segment).</summary>
    public void ExpireRemovedSegments()
    {
        lock (_lock)
        {
            ExpireRemoved(_time.GetTimestamp());
        }
    }

    /// <summary>Number of removed segments still kept downloadable.</summary>
    public int RetainedRemovedCount
    {
        get
        {
            lock (_lock)
            {
                return _removed.Count;
            }
        }
    }

    /// <summary>
    /// Finds a segment (in the window or recently removed) and takes a read lease on its buffer; the caller
    /// calls <see cref="SegmentBuffer.Release"/> when done.
    /// </summary>
    public bool TryAcquireSegment(long sequenceNumber, out HlsSegment? segment)
    {
        lock (_lock)
        {
            segment = Find(sequenceNumber);
            if (segment is not null && segment.Buffer.TryAcquire())
            {
                return true;
            }
        }

        segment = null;
        return false;
    }

    /// <summary>Renders the playlist with a query string appended to every segment URI (playback tokens), and with
    /// <paramref name="skip"/> as a delta update (LL-HLS <c>_HLS_skip=YES</c>).</summary>
    public byte[]? RenderPlaylist(string? segmentQuery, bool skip = false)
    {
        lock (_lock)
        {
            return _targetDuration == 0 ? null : RenderCore(segmentQuery, skip);
        }
    }

    /// <summary>Where a blocking playlist request (<c>_HLS_msn</c>, <c>_HLS_part</c>) stands against this stream.</summary>
    public PlaylistWait Check(long mediaSequence, int? part)
    {
        lock (_lock)
        {
            if (_ended || _disposed)
            {
                return PlaylistWait.Ready; // after EXT-X-ENDLIST every request answers at once
            }

            if (mediaSequence > _nextSequence + 1)
            {
                return PlaylistWait.TooFar; // beyond the next two segments (RFC 8216bis §6.2.5.2: 400)
            }

            return HasPart(mediaSequence, part) ? PlaylistWait.Ready : PlaylistWait.Wait;
        }
    }

    /// <summary>
    /// Finds a part (of the segment being built, or of a segment still listed or retained) and takes a read lease on
    /// its buffer; the caller calls <see cref="SegmentBuffer.Release"/> when done.
    /// </summary>
    public bool TryAcquirePart(long sequenceNumber, int partIndex, out SegmentPart part)
    {
        lock (_lock)
        {
            var parts = sequenceNumber == OpenSequence ? _openParts : Find(sequenceNumber)?.Parts;
            if (parts is not null && partIndex >= 0 && partIndex < parts.Count && parts[partIndex].Buffer.TryAcquire())
            {
                part = parts[partIndex];
                return true;
            }
        }

        part = default;
        return false;
    }

    /// <summary>Whether a part that does not exist yet may still come soon: the hinted one or the one after (a
    /// request for it blocks until it exists, RFC 8216bis §6.2.6).</summary>
    public bool IsUpcomingPart(long sequenceNumber, int partIndex)
    {
        lock (_lock)
        {
            return !_ended && !_disposed && PartTargetMs > 0
                && ((sequenceNumber == OpenSequence && partIndex >= _openParts.Count && partIndex <= _openParts.Count + 1)
                    || (sequenceNumber == OpenSequence + 1 && partIndex <= 1));
        }
    }

    // The sequence number of the segment being built (its parts are the open parts).
    private long OpenSequence => _openParts.Count > 0 ? _openParts[0].SegmentSequenceNumber : _nextSequence;

    // Under the lock. A part index past the last part of a complete segment means part 0 of the next one.
    private bool HasPart(long mediaSequence, int? part)
    {
        if (mediaSequence < _nextSequence)
        {
            if (part is not { } index)
            {
                return true;
            }

            var segment = Find(mediaSequence);
            return segment is null || index < segment.Parts.Count || HasPart(mediaSequence + 1, 0);
        }

        return part is { } open && mediaSequence == OpenSequence && open < _openParts.Count;
    }

    /// <summary>Renders the multivariant playlist with a query string appended to the media playlist URI (playback tokens).</summary>
    public byte[]? RenderMultivariantPlaylist(string? query)
    {
        lock (_lock)
        {
            return _targetDuration == 0 ? null : RenderMultivariantCore(query);
        }
    }

    /// <summary>Releases every segment buffer (readers holding a lease finish first).</summary>
    public void Dispose()
    {
        bool wasEnded;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            wasEnded = _ended;
            _ended = true;
            foreach (var segment in _window)
            {
                segment.Buffer.Release();
            }

            _window.Clear();
            while (_removed.TryDequeue(out var removed))
            {
                removed.Segment.Buffer.Release();
            }
        }

        Signal();
        RefreshSibling();
        if (!wasEnded)
        {
            Ended?.Invoke(this);
        }
    }

    private HlsSegment? Find(long sequenceNumber)
    {
        if (_window.Count > 0 && sequenceNumber >= _window[0].SequenceNumber)
        {
            var index = sequenceNumber - _window[0].SequenceNumber;
            return index < _window.Count ? _window[(int)index] : null;
        }

        foreach (var (segment, _) in _removed)
        {
            if (segment.SequenceNumber == sequenceNumber)
            {
                return segment;
            }
        }

        return null;
    }

    // Removes the oldest segment while the window keeps more than PlaylistLength segments and at least
    // 3 × target duration of media (RFC 8216 §6.2.2: "at least three times the target duration").
    private void SlideWindow()
    {
        var minDurationMs = 3000L * _targetDuration;
        var retainTicks = (long)(_options.EffectiveRetainRemovedSegmentsFor.TotalSeconds * _time.TimestampFrequency);
        var now = _time.GetTimestamp();
        while (_window.Count > _options.PlaylistLength && _windowDurationMs - _window[0].DurationMs >= minDurationMs)
        {
            var oldest = _window[0];
            _window.RemoveAt(0);
            _windowDurationMs -= oldest.DurationMs;
            _mediaSequence++;
            if (oldest.Discontinuity)
            {
                _discontinuitySequence++;
            }

            _removed.Enqueue((oldest, now + retainTicks));
        }

        // The retention is wall-clock time (§6.2.2), which at real time is PlaylistLength + 1 segments. A publisher
        // sending faster than real time (a file pushed without -re, a backlog) would otherwise keep that many
        // seconds of its ingest in memory (gigabytes at 100x); twice the real-time count bounds it.
        var maxRemoved = 2 * (_options.PlaylistLength + 1);
        while (_removed.Count > maxRemoved)
        {
            _removed.Dequeue().Segment.Buffer.Release();
        }
    }

    private void ExpireRemoved(long now)
    {
        while (_removed.TryPeek(out var head) && head.ExpiresAt <= now)
        {
            _removed.Dequeue();
            head.Segment.Buffer.Release();
        }
    }

    private void Signal() => Interlocked.Exchange(ref _changed, new ChangeSignal()).Complete();

    private void Render()
    {
        Volatile.Write(ref _playlist, RenderCore(null));
        Volatile.Write(ref _multivariantPlaylist, RenderMultivariantCore(null));
    }

    // BANDWIDTH is the peak segment bit rate seen in this run (RFC 8216 §4.3.4.2: the peak of any segment),
    // AVERAGE-BANDWIDTH the mean over the current window.
    private byte[] RenderMultivariantCore(string? query)
    {
        long bytes = 0;
        foreach (var segment in _window)
        {
            bytes += segment.Buffer.Length;
        }

        var codecs = (_video.Codec, _audio.Codec) switch
        {
            (null, null) => null,
            ({ } video, null) => video,
            (null, { } audio) => audio,
            ({ } video, { } audio) => video + "," + audio,
        };
        var uri = string.IsNullOrEmpty(query) ? MediaPlaylistName : MediaPlaylistName + "?" + query;
        return MultivariantPlaylistWriter.Render(new VariantStream(
            Math.Max(1, _peakBitrate),
            BitsPerSecond(bytes, _windowDurationMs),
            codecs,
            _video.Width,
            _video.Height,
            uri));
    }

    private static long BitsPerSecond(long bytes, long durationMs) => durationMs <= 0 ? 0 : bytes * 8000 / durationMs;

    private byte[] RenderCore(string? segmentQuery, bool skip = false) =>
        MediaPlaylistWriter.Render(new MediaPlaylist(
            _targetDuration,
            _mediaSequence,
            _discontinuitySequence,
            SessionId,
            _window,
            _ended,
            segmentQuery,
            PartTargetMs > 0 ? LowLatency(skip) : null,
            Playlists.SegmentNames.ExtensionOf(Container),
            _initVersion));

    // Parts are listed for the segments that end within the last 3 target durations (RFC 8216bis §6.2.2: parts
    // older than that SHOULD go); a delta update skips the segments that start more than CAN-SKIP-UNTIL
    // (6 target durations) before the end, never the last one.
    private LowLatencyPlaylist LowLatency(bool skip)
    {
        var partsFrom = _window.Count;
        var fromEndMs = 0L;
        while (partsFrom > 0 && fromEndMs < 3000L * _targetDuration)
        {
            fromEndMs += _window[--partsFrom].DurationMs;
        }

        var skipped = 0;
        if (skip)
        {
            var remainingMs = _windowDurationMs;
            while (skipped < _window.Count - 1 && remainingMs - _window[skipped].DurationMs >= 6000L * _targetDuration)
            {
                remainingMs -= _window[skipped++].DurationMs;
            }
        }

        (long, int)? hint = _ended ? null : (OpenSequence, _openParts.Count);
        RenditionReport? report = Volatile.Read(ref _sibling) is { } sibling && Volatile.Read(ref sibling._lastPart) is { } last && !sibling.IsEnded
            ? new RenditionReport(sibling.Container == HlsContainer.Fmp4 ? ReportFmp4Uri : ReportTsUri, last.Msn, last.Part)
            : null;
        return new LowLatencyPlaylist(PartTargetMs, partsFrom, [.. _openParts], hint, skipped, report);
    }

    private const string ReportTsUri = MediaPlaylistName + "?container=ts";
    private const string ReportFmp4Uri = MediaPlaylistName + "?container=fmp4";

    private sealed record LastPart(long Msn, int Part);

    private static string NewSessionId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
}

/// <summary>One change of an <see cref="HlsStream"/>: completes when it happens and keeps the time it did.</summary>
internal sealed class ChangeSignal() : TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)
{
    /// <summary>When the change happened (<see cref="System.Diagnostics.Stopwatch"/> ticks); 0 before.</summary>
    public long CompletedAt { get; private set; }

    public void Complete()
    {
        CompletedAt = System.Diagnostics.Stopwatch.GetTimestamp();
        TrySetResult();
    }
}
