using Microsoft.Extensions.Logging;

namespace MediaServer.Core.Diagnostics;

/// <summary>
/// Logs a recurring, non-fatal error (a malformed frame dropped, a frame a muxer refused) aggregated instead of per
/// occurrence (mediamtx's errordumper): the first occurrence at once, then at most one line per interval with the
/// count so far and the last reason, and a closing line with the total if anything went unlogged.
/// </summary>
/// <remarks>Not thread-safe: one per connection or per stream output, used by the thread that feeds it.</remarks>
public sealed class AggregateErrorLog
{
    /// <summary>The default interval between summary lines.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(10);

    private readonly ILogger _logger;
    private readonly string _subject;
    private readonly string _what;
    private readonly long _intervalMs;
    private readonly TimeProvider _time;
    private long _logged;
    private long _lastLogAt;

    /// <param name="logger">Where the lines go (warnings).</param>
    /// <param name="subject">Who it is about, first on every line (e.g. "RTMP 10.0.0.1:5000: stream cam").</param>
    /// <param name="what">What is counted, in the plural form used after the count (e.g. "malformed frame(s) dropped").</param>
    /// <param name="interval">At most one summary line per this interval; <see cref="DefaultInterval"/> if null.</param>
    /// <param name="timeProvider">The clock for the interval (tests).</param>
    public AggregateErrorLog(ILogger logger, string subject, string what, TimeSpan? interval = null, TimeProvider? timeProvider = null)
    {
        _logger = logger;
        _subject = subject;
        _what = what;
        _intervalMs = (long)(interval ?? DefaultInterval).TotalMilliseconds;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Occurrences so far.</summary>
    public long Count { get; private set; }

    /// <summary>Occurrences already covered by a logged line.</summary>
    public long Logged => _logged;

    /// <summary>Counts one occurrence; logs it if it is the first or the interval has passed since the last line.
    /// Returns whether it logged.</summary>
    /// <param name="reason">Why, for the line (an enum value or short text; formatted only when logged).</param>
    /// <param name="detail">More detail (an exception message), or null.</param>
    /// <param name="exception">The exception, logged with the first line only (its stack says where).</param>
    public bool Add<TReason>(TReason reason, string? detail = null, Exception? exception = null)
    {
        Count++;
        var now = _time.GetTimestamp();
        if (_logged != 0 && _time.GetElapsedTime(_lastLogAt, now).TotalMilliseconds < _intervalMs)
        {
            return false;
        }

        _logger.LogWarning(_logged == 0 ? exception : null, "{Subject}: {Count} {What} so far (last: {Reason}{Detail})", _subject, Count, _what, reason, detail is null ? string.Empty : ": " + detail);
        _logged = Count;
        _lastLogAt = now;
        return true;
    }

    /// <summary>Logs the total once more if occurrences came after the last line (at the end of a connection or stream).</summary>
    public void Complete()
    {
        if (Count > _logged)
        {
            _logger.LogWarning("{Subject}: {Count} {What} in total", _subject, Count, _what);
            _logged = Count;
        }
    }
}
