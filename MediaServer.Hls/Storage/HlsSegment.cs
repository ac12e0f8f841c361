namespace MediaServer.Hls.Storage;

/// <summary>One complete, immutable media segment of a live window.</summary>
/// <param name="SequenceNumber">Its media sequence number (the segment URI is <c>{session}-{sequence}.ts</c>).</param>
/// <param name="DurationMs">Its EXTINF duration in milliseconds (the model's timestamps are ms, so this is exact).</param>
/// <param name="Discontinuity">Whether EXT-X-DISCONTINUITY precedes it (new publisher, new codec parameters,
/// timestamp jump).</param>
/// <param name="ProgramDateTime">Wall-clock time of its first sample (EXT-X-PROGRAM-DATE-TIME).</param>
/// <param name="Buffer">Its bytes; the owning <see cref="HlsStream"/> holds one reference.</param>
public sealed record HlsSegment(long SequenceNumber, long DurationMs, bool Discontinuity, DateTimeOffset ProgramDateTime, SegmentBuffer Buffer)
{
    /// <summary>Its LL-HLS parts, in order, tiling <see cref="Buffer"/> (empty without parts).</summary>
    public IReadOnlyList<SegmentPart> Parts { get; init; } = [];

    /// <summary>The version of the initialization segment it needs (fMP4, EXT-X-MAP); 0 for MPEG-TS.</summary>
    public int InitVersion { get; init; }

    /// <summary>Segment size in bytes.</summary>
    public long Length => Buffer.Length;
}
