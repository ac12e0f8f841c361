using MediaServer.Hls.Storage;

namespace MediaServer.Hls.Segmenting;

/// <summary>A segment closed by the segmenter, on its way to the stream (possibly held back first, see
/// <see cref="SegmentationPolicy"/>).</summary>
/// <param name="DurationMs">Its EXTINF in milliseconds.</param>
/// <param name="Discontinuity">EXT-X-DISCONTINUITY precedes it.</param>
/// <param name="ProgramDateTime">Wall-clock time of its first frame.</param>
/// <param name="Independent">It starts with a keyframe (or is audio-only): decodable on its own.</param>
/// <param name="Buffer">Its bytes (one reference, passed on with the segment).</param>
/// <param name="Parts">Its parts (LL-HLS), in order; empty without a part target.</param>
/// <param name="InitVersion">The initialization segment it needs (fMP4); 0 for MPEG-TS.</param>
public readonly record struct ClosedSegment(long DurationMs, bool Discontinuity, DateTimeOffset ProgramDateTime, bool Independent, SegmentBuffer Buffer, SegmentPart[] Parts, int InitVersion = 0);

/// <summary>
/// The segment being built: its buffer, its first and last lead-track DTS, and the part being built within it. The
/// segmenter decides when parts and segments end; this only keeps the books.
/// </summary>
internal sealed class SegmentBuilder
{
    private readonly List<SegmentPart> _parts = [];
    private long _partOffset;
    private long _partStartDts;
    private bool _partIndependent;

    public SegmentBuilder(long sequenceNumber, long startDts, bool discontinuity, DateTimeOffset programDateTime, bool independent)
    {
        SequenceNumber = sequenceNumber;
        StartDts = startDts;
        LastLeadDts = startDts;
        MaxLeadPts = long.MinValue;
        Discontinuity = discontinuity;
        ProgramDateTime = programDateTime;
        Independent = independent;
        _partStartDts = startDts;
        _partIndependent = independent;
    }

    public SegmentBuffer Buffer { get; } = new();

    public long SequenceNumber { get; }

    public long StartDts { get; }

    /// <summary>The newest DTS of the lead track (video, or audio when audio-only) in the segment.</summary>
    public long LastLeadDts { get; private set; }

    /// <summary>The latest presentation time of the lead track in the segment (long.MinValue before its first frame).</summary>
    public long MaxLeadPts { get; private set; }

    public bool Discontinuity { get; }

    public DateTimeOffset ProgramDateTime { get; }

    /// <summary>The segment starts with a keyframe (or is audio-only).</summary>
    public bool Independent { get; }

    /// <summary>The initialization segment its media needs (fMP4); 0 for MPEG-TS.</summary>
    public int InitVersion { get; init; }

    /// <summary>Some media frame was written (not only tables).</summary>
    public bool HasMedia { get; private set; }

    /// <summary>DTS at which the part being built started.</summary>
    public long PartStartDts => _partStartDts;

    /// <summary>A media frame at <paramref name="dts"/>/<paramref name="pts"/> was written; <paramref name="leads"/> if of the lead track.</summary>
    public void Wrote(long dts, long pts, bool leads)
    {
        HasMedia = true;
        if (leads)
        {
            LastLeadDts = Math.Max(LastLeadDts, dts);
            MaxLeadPts = Math.Max(MaxLeadPts, pts);
        }
    }

    /// <summary>
    /// Ends the part being built at <paramref name="endDts"/> (the next part starts there, independent if
    /// <paramref name="nextIndependent"/>); null when it holds no bytes.
    /// </summary>
    public SegmentPart? EndPart(long endDts, bool nextIndependent)
    {
        SegmentPart? part = null;
        var end = Buffer.Length;
        if (end > _partOffset)
        {
            part = new SegmentPart(SequenceNumber, _parts.Count, Buffer, _partOffset, end - _partOffset, Math.Max(0, endDts - _partStartDts), _partIndependent);
            _parts.Add(part.Value);
        }

        _partOffset = end;
        _partStartDts = endDts;
        _partIndependent = nextIndependent;
        return part;
    }

    /// <summary>The segment as closed at <paramref name="endDts"/>; its buffer and parts pass to the result (they stay
    /// together while the segment is held back).</summary>
    public ClosedSegment Close(long endDts) =>
        new(Math.Max(1, endDts - StartDts), Discontinuity, ProgramDateTime, Independent, Buffer, [.. _parts], InitVersion);
}
