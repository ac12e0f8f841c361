using MediaServer.Core.Buffers;
using MediaServer.Core.Media;

namespace MediaServer.Core.Mp4;

/// <summary>One sample waiting for the next fragment: a reference on the frame's payload and its timing.</summary>
internal readonly record struct Fmp4Sample(MediaBuffer Payload, long DecodeTime, int CompositionTime, bool IsSync);

/// <summary>
/// The samples of one track since the last fragment, each holding a reference (<see cref="MediaBuffer.AddRef"/>) on
/// its frame's payload until the fragment is written (<see cref="Clear"/>): no copy. The array grows to the largest
/// fragment seen and is kept, so the steady state allocates nothing.
/// </summary>
internal sealed class Fmp4SampleQueue
{
    private Fmp4Sample[] _samples = new Fmp4Sample[64];

    public int Count { get; private set; }

    /// <summary>Payload bytes held.</summary>
    public long Bytes { get; private set; }

    /// <summary>The duration (track ticks) of the last sample whose successor was known; -1 before the first.</summary>
    public long LastDuration { get; set; } = -1;

    public ref readonly Fmp4Sample this[int index] => ref _samples[index];

    /// <summary>Decode time (ms) of the newest sample; only when <see cref="Count"/> is above zero.</summary>
    public long LastDecodeTime => _samples[Count - 1].DecodeTime;

    /// <summary>Holds the frame's payload (adds a reference) for the next fragment.</summary>
    public void Add(in MediaFrame frame, bool isSync)
    {
        if (Count == _samples.Length)
        {
            Array.Resize(ref _samples, _samples.Length * 2);
        }

        _samples[Count++] = new Fmp4Sample(frame.Payload.AddRef(), frame.Timestamp, frame.CompositionTime, isSync);
        Bytes += frame.Payload.Length;
    }

    /// <summary>Releases every held payload.</summary>
    public void Clear()
    {
        for (var i = 0; i < Count; i++)
        {
            _samples[i].Payload.Release();
            _samples[i] = default;
        }

        Count = 0;
        Bytes = 0;
    }
}
