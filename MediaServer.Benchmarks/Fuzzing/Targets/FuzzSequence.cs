using System.Buffers;

namespace MediaServer.Fuzzing;

/// <summary>Input bytes as a multi-segment <see cref="ReadOnlySequence{T}"/>, as a pipe delivers them.</summary>
public static class FuzzSequence
{
    /// <summary>Copies <paramref name="data"/> into segments of <paramref name="segmentLength"/> bytes.</summary>
    public static ReadOnlySequence<byte> Create(ReadOnlySpan<byte> data, int segmentLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(segmentLength, 1);
        if (data.Length <= segmentLength)
        {
            return new ReadOnlySequence<byte>(data.ToArray());
        }

        var first = new Segment(data[..segmentLength].ToArray(), 0);
        var last = first;
        for (var offset = segmentLength; offset < data.Length; offset += segmentLength)
        {
            last = last.Append(data.Slice(offset, Math.Min(segmentLength, data.Length - offset)).ToArray());
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] data, long runningIndex)
        {
            Memory = data;
            RunningIndex = runningIndex;
        }

        public Segment Append(byte[] data)
        {
            var next = new Segment(data, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
