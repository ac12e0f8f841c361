using System.Buffers;
using MediaServer.Core.Codecs;
using MediaServer.Core.Media;

namespace MediaServer.Core.Mp4;

// Implementation notes.
// - Write holds a reference on each frame's payload (no copy); Flush writes one fragment (moof + mdat) of everything
//   held and releases the references. Flush with nothing held writes nothing.
// - BeginSegment writes nothing: no 'styp'. It is optional in HLS (rfc8216bis §3.1.2 asks only for the init segment
//   through EXT-X-MAP), and leaving it out keeps every part, the first of a segment included, a plain moof + mdat.
// - Write flushes a fragment on its own (into the output it is given) only when the held samples could not be one
//   fragment: a decode time going back on a track (a timeline reset the caller did not cut at), or the
//   MaxSamplesPerFragment / MaxFragmentBytes bounds. The segmenter normally flushes at every part long before.
// - Configure does not flush: samples held when a configuration changes go out with the next Flush, so the caller
//   flushes (ends its segment) before a new sequence header, as the segmenter does for a discontinuity.
/// <summary>
/// Our fragmented MP4 muxer (ISO/IEC 14496-12 §8.8) for HLS fMP4 segments and low-latency parts: an init segment
/// (<see cref="WriteInitSegment"/>, see <see cref="Fmp4InitSegment"/>) and, per <see cref="Flush"/>, one movie
/// fragment with a <c>traf</c> per track and a single <c>mdat</c>. H.264/HEVC samples stay in the AVCC/HVCC
/// length-prefixed form of the media frames; AAC samples are raw frames. Split by concern: this file (state and the
/// <see cref="ISegmentMuxer"/> entry points), <c>.Fragment</c> (moof/mdat). One instance per stream, single-threaded.
/// </summary>
public sealed partial class Fmp4Muxer : ISegmentMuxer, IInitSegmentMuxer, IDisposable
{
    /// <summary>Most samples of one track in a fragment: 8192 is over two minutes of 60 fps video, far beyond any
    /// segment; it bounds the held references and the trun if nobody calls Flush.</summary>
    public const int MaxSamplesPerFragment = 8192;

    /// <summary>Most payload bytes in a fragment: 256 MiB is minutes of 8K video; it keeps mdat within a 32-bit
    /// size and bounds the memory held if nobody calls Flush.</summary>
    public const long MaxFragmentBytes = 256L * 1024 * 1024;

    private readonly Fmp4SampleQueue _videoSamples = new();
    private readonly Fmp4SampleQueue _audioSamples = new();
    private readonly Mp4BoxWriter _boxes = new(4096);
    private Fmp4Track? _video;
    private Fmp4Track? _audio;
    private uint _sequenceNumber;

    /// <summary>The video track, or null when there is none (yet).</summary>
    public Fmp4Track? VideoTrack => _video;

    /// <summary>The audio track, or null when there is none (yet).</summary>
    public Fmp4Track? AudioTrack => _audio;

    /// <summary>
    /// Incremented whenever the track set or a track's configuration changes (a repeated, identical sequence header
    /// does not count): the init segment written by <see cref="WriteInitSegment"/> is stale once this moves on.
    /// 0 while no track is configured.
    /// </summary>
    public int InitSegmentVersion { get; private set; }

    /// <summary>Whether a track is configured, so <see cref="WriteInitSegment"/> has something to describe.</summary>
    public bool HasInitSegment => _video is not null || _audio is not null;

    /// <summary>Samples held for the next fragment.</summary>
    public bool HasPendingSamples => _videoSamples.Count > 0 || _audioSamples.Count > 0;

    /// <summary>The mfhd sequence number of the last fragment written (the first is 1).</summary>
    public uint SequenceNumber => _sequenceNumber;

    /// <summary>Frames refused by <see cref="Write"/> or <see cref="Configure"/> (aggregate for logging).</summary>
    public long RejectedFrames { get; private set; }

    /// <summary>Reason of the last refusal.</summary>
    public MuxRejection LastRejection { get; private set; }

    /// <summary>Codecs this muxer can carry: H.264, HEVC, AAC.</summary>
    public bool IsSupported(MediaCodec codec) => IsSupportedCodec(codec);

    /// <summary>Codecs any fMP4 muxer of ours can carry.</summary>
    public static bool IsSupportedCodec(MediaCodec codec) => codec is MediaCodec.H264 or MediaCodec.Hevc or MediaCodec.Aac;

    /// <summary>
    /// Applies a sequence header (AVC/HEVC decoder configuration record, AudioSpecificConfig). Writes nothing; a new or
    /// changed track moves <see cref="InitSegmentVersion"/> on.
    /// </summary>
    public MuxRejection Configure(in MediaFrame config)
    {
        if (!CarriesKind(config))
        {
            return Reject(MuxRejection.UnsupportedCodec);
        }

        var current = config.IsVideo ? _video : _audio;
        if (current is not null && current.HasConfig(config.Codec, config.Span))
        {
            return MuxRejection.None;
        }

        Fmp4Track track;
        try
        {
            track = Fmp4Track.FromConfig(config);
        }
        catch (CodecException)
        {
            return Reject(MuxRejection.InvalidConfig);
        }

        if (config.IsVideo)
        {
            _video = track;
        }
        else
        {
            _audio = track;
        }

        InitSegmentVersion++;
        return MuxRejection.None;
    }

    /// <summary>
    /// Holds one media frame for the next fragment (a config frame is applied as by <see cref="Configure"/>; an
    /// end-of-sequence frame is ignored). Returns why a frame was refused, holding nothing: unsupported codec, no
    /// config for its track yet, NAL lengths that lie, a negative decode time or a composition offset beyond 32-bit
    /// ticks. Writes to <paramref name="output"/> only in the cases of the implementation notes above.
    /// </summary>
    public MuxRejection Write(in MediaFrame frame, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (frame.Kind == MediaKind.Data)
        {
            return MuxRejection.UnsupportedCodec; // Script data has no place in our fMP4; not counted (every stream has metadata).
        }

        if (!CarriesKind(frame))
        {
            return Reject(MuxRejection.UnsupportedCodec);
        }

        if (frame.IsConfig)
        {
            return Configure(frame);
        }

        if ((frame.Flags & FrameFlags.EndOfSequence) != 0)
        {
            return MuxRejection.None;
        }

        var track = frame.IsVideo ? _video : _audio;
        if (track is null || track.Codec != frame.Codec)
        {
            return Reject(MuxRejection.NoConfig);
        }

        if (frame.Timestamp < 0 || !FitsCompositionOffset(frame, track))
        {
            return Reject(MuxRejection.MalformedFrame);
        }

        if (frame.IsVideo && !HasValidNalLengths(frame.Span, track.NalUnitLengthSize))
        {
            return Reject(MuxRejection.MalformedFrame);
        }

        var samples = frame.IsVideo ? _videoSamples : _audioSamples;
        if (samples.Count > 0 && (frame.Timestamp < samples.LastDecodeTime
            || samples.Count == MaxSamplesPerFragment
            || _videoSamples.Bytes + _audioSamples.Bytes + frame.Payload.Length > MaxFragmentBytes))
        {
            WriteFragment(output);
        }

        // Audio is always a sync sample; video when flagged as a keyframe.
        samples.Add(frame, frame.IsAudio || frame.IsKeyframe);
        return MuxRejection.None;
    }

    /// <summary>Writes nothing: fMP4 segments start with their first fragment (no 'styp', see the notes above).</summary>
    public void BeginSegment(IBufferWriter<byte> output) => ArgumentNullException.ThrowIfNull(output);

    /// <summary>Writes one fragment (moof + mdat) of every sample held since the last one; nothing if none is held.</summary>
    public void Flush(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        WriteFragment(output);
    }

    /// <summary>Writes the init segment (ftyp + moov) for the tracks configured now.</summary>
    /// <exception cref="InvalidOperationException">No track is configured (<see cref="HasInitSegment"/> is false).</exception>
    public void WriteInitSegment(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (!HasInitSegment)
        {
            throw new InvalidOperationException("No track is configured yet.");
        }

        Fmp4InitSegment.Write(output, _video, _audio);
    }

    /// <summary>Releases the payloads still held (a muxer dropped without a last Flush) and the scratch buffer.</summary>
    public void Dispose()
    {
        _videoSamples.Clear();
        _audioSamples.Clear();
        _boxes.Dispose();
    }

    // A codec we carry, on a track of its kind.
    private static bool CarriesKind(in MediaFrame frame) => frame.Kind switch
    {
        MediaKind.Video => frame.Codec is MediaCodec.H264 or MediaCodec.Hevc,
        MediaKind.Audio => frame.Codec is MediaCodec.Aac,
        _ => false,
    };

    private static bool FitsCompositionOffset(in MediaFrame frame, Fmp4Track track)
    {
        var offset = ToTicks(frame.PresentationTimestamp, track.Timescale) - ToTicks(frame.Timestamp, track.Timescale);
        return offset is >= int.MinValue and <= int.MaxValue;
    }

    private static bool HasValidNalLengths(ReadOnlySpan<byte> accessUnit, int lengthSize)
    {
        try
        {
            var reader = new LengthPrefixedNalReader(accessUnit, lengthSize);
            var any = false;
            while (reader.TryRead(out _))
            {
                any = true;
            }

            return any;
        }
        catch (CodecException)
        {
            return false;
        }
    }

    /// <summary>Milliseconds to track ticks, rounded down (exact for 90 kHz; for audio the same rounding everywhere, so
    /// a sample's duration is the difference of two conversions and fragments join without gaps).</summary>
    internal static long ToTicks(long milliseconds, uint timescale) => milliseconds >= 0
        ? milliseconds * timescale / 1000
        : -((-milliseconds * timescale + 999) / 1000);

    private MuxRejection Reject(MuxRejection reason)
    {
        RejectedFrames++;
        LastRejection = reason;
        return reason;
    }
}
