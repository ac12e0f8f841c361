namespace MediaServer.Core.Media;

/// <summary>
/// Extends RTMP's 32-bit millisecond timestamps onto a 64-bit timeline using serial number arithmetic
/// (RFC 1982 style): a value that is "ahead" by less than 2^31 moves forward, even across the 2^32 wrap
/// (~49.7 days); a value "behind" by less than 2^31 moves backward (a reordered or rewinding frame).
/// </summary>
public struct TimestampExtender
{
    private long _last;
    private bool _started;

    /// <summary>Maps a 32-bit wire timestamp onto the extended timeline.</summary>
    public long Extend(uint timestamp)
    {
        if (!_started)
        {
            _started = true;
            _last = timestamp;
            return _last;
        }

        var delta = unchecked((int)(timestamp - (uint)_last));
        _last += delta;
        return _last;
    }

    /// <summary>Forgets the history (a new publisher starts its own timeline).</summary>
    public void Reset() => _started = false;
}
