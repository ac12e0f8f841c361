using System.Collections;

namespace MediaServer.Rtmp.Session;

/// <summary>
/// The logging scope of one RTMP session: begun when the connection starts, it names the stream once a
/// <c>publish</c> or <c>play</c> has resolved it, so every later line of the session (and of the work the publish
/// starts in its flow, such as the HLS segmenter) carries <c>StreamId</c>. Mutable on purpose: one scope for the
/// connection's life instead of one per message. The stream key is never in it.
/// </summary>
public sealed class StreamLogScope : IReadOnlyList<KeyValuePair<string, object?>>
{
    private volatile string? _streamId;

    /// <summary>The stream the session publishes or plays; null before <c>publish</c>/<c>play</c>.</summary>
    public string? StreamId
    {
        get => _streamId;
        set => _streamId = value;
    }

    public int Count => 1;

    public KeyValuePair<string, object?> this[int index] =>
        index == 0 ? new("StreamId", _streamId) : throw new ArgumentOutOfRangeException(nameof(index));

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        yield return this[0];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => _streamId is { } id ? "stream " + id : "stream -";
}
