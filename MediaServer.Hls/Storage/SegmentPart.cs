namespace MediaServer.Hls.Storage;

/// <summary>
/// A part of the segment being built (LL-HLS <c>EXT-X-PART</c>, rfc8216bis §4.4.4.9): a byte range of the
/// segment's buffer, closed on a time budget at a frame boundary, independent when it starts with a keyframe.
/// </summary>
/// <param name="SegmentSequenceNumber">Media sequence number of the segment it belongs to.</param>
/// <param name="PartIndex">0-based index of the part within its segment.</param>
/// <param name="Buffer">The segment's buffer; the part is <c>Buffer.GetSequence(Offset + Length).Slice(Offset)</c>.</param>
/// <param name="Offset">First byte of the part.</param>
/// <param name="Length">Bytes in the part.</param>
/// <param name="DurationMs">Media duration of the part.</param>
/// <param name="Independent">The part starts with a keyframe (<c>INDEPENDENT=YES</c>).</param>
public readonly record struct SegmentPart(long SegmentSequenceNumber, int PartIndex, SegmentBuffer Buffer, long Offset, long Length, long DurationMs, bool Independent);
