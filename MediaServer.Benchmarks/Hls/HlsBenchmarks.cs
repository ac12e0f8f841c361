using System.Buffers;
using BenchmarkDotNet.Attributes;
using MediaServer.Hls.Playlists;
using MediaServer.Hls.Storage;

namespace MediaServer.Benchmarks.Hls;

/// <summary>
/// Segment storage and playlist rendering. <c>WriteSegment</c>: a 2 MiB segment (2 s at 8 Mbit/s) written
/// as 188-byte TS packets into pooled chunks and released (steady state: pooled arrays, one chunk object
/// per 64 KiB); <c>ReadSegment</c>: the same bytes enumerated as a sequence (what serving does);
/// <c>RenderPlaylist</c>: a 6-segment live window, once per segment.
/// </summary>
[MemoryDiagnoser]
public class HlsBenchmarks
{
    private const int SegmentBytes = 188 * 11_155; // ~2 MiB
    private readonly byte[] _packet = new byte[188];
    private SegmentBuffer _segment = null!;
    private HlsSegment[] _window = null!;

    [GlobalSetup]
    public void Setup()
    {
        _packet[0] = 0x47;
        _segment = Write();
        _window = new HlsSegment[6];
        for (var i = 0; i < _window.Length; i++)
        {
            _window[i] = new HlsSegment(1000 + i, 2000 + i, i == 3, DateTimeOffset.UnixEpoch, _segment);
        }
    }

    [Benchmark]
    public long WriteSegment()
    {
        var buffer = Write();
        var length = buffer.Length;
        buffer.Release();
        return length;
    }

    [Benchmark]
    public long ReadSegment()
    {
        long sum = 0;
        foreach (var memory in _segment.GetSequence())
        {
            sum += memory.Span[0];
        }

        return sum;
    }

    [Benchmark]
    public int RenderPlaylist() =>
        MediaPlaylistWriter.Render(new MediaPlaylist(2, 1000, 1, "5f3a9c0d12ab", _window, Ended: false)).Length;

    private SegmentBuffer Write()
    {
        var buffer = new SegmentBuffer();
        for (var written = 0; written < SegmentBytes; written += 188)
        {
            _packet.CopyTo(buffer.GetSpan(188));
            buffer.Advance(188);
        }

        return buffer;
    }
}
