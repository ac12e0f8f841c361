namespace MediaServer.Rtmp.Session;

/// <summary>
/// Cancels a connection that sends nothing for <see cref="Timeout"/>. Re-armed as data arrives, but at most every
/// eighth of the timeout (not a timer update per read): the peer is cut after between 7/8 of it and all of it
/// without data. A player's input may be silent: <see cref="Disarm"/>.
/// </summary>
internal sealed class IdleTimer
{
    private readonly CancellationTokenSource _cts;
    private readonly long _rearmEveryMs;
    private long _armedAt;
    private bool _armed;

    public IdleTimer(CancellationTokenSource cts, TimeSpan timeout)
    {
        _cts = cts;
        Timeout = timeout;
        _rearmEveryMs = (long)(timeout.TotalMilliseconds / 8);
    }

    public TimeSpan Timeout { get; }

    /// <summary>Starts (or restarts) the full timeout now.</summary>
    public void Arm()
    {
        _armed = true;
        _armedAt = Environment.TickCount64;
        _cts.CancelAfter(Timeout);
    }

    /// <summary>Data arrived: re-arms the timeout if an eighth of it passed since it was last armed.</summary>
    public void Touch()
    {
        if (_armed && Environment.TickCount64 - _armedAt >= _rearmEveryMs)
        {
            Arm();
        }
    }

    /// <summary>No timeout from now on.</summary>
    public void Disarm()
    {
        _armed = false;
        _cts.CancelAfter(System.Threading.Timeout.InfiniteTimeSpan);
    }
}
