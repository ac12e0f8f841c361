using System.Buffers;
using MediaServer.Core.Codecs;
using MediaServer.Core.Codecs.Aac;
using MediaServer.Core.Media;

namespace MediaServer.Core.Mpegts;

// Implementation notes.
// - PIDs as ffmpeg: PMT 0x1000, video 0x100, audio 0x101; program 1, transport_stream_id 1.
// - H.264/HEVC access units: our AUD first (any AUD in the frame is dropped, an AUD must be first and unique);
//   before a random access point the parameter sets from the configuration record are inserted after the AUD,
//   but only those the access unit does not already carry (an encoder repeating headers in-band, e.g. OBS or
//   x264 --repeat-headers, may have newer ones than the record, and duplicates only waste bytes) — the same
//   rule as ffmpeg's h264_mp4toannexb.
// - Audio packing: frames are held and written as one PES when MaxAudioFramesPerPes is reached, when the next
//   frame's PTS is MaxAudioPesDuration past the first held one, when a video frame arrives whose DTS is that
//   far past the first held one (so audio never lags the video written by more than the window), and on Flush.
//   BeginSegment does not flush: the segmenter calls Flush before closing a segment.
// - Timestamps: ms × 90 + TimestampOffset90kHz on a 64-bit line, written mod 2^33; PCR decisions use the 64-bit
//   line, so the 26.5 h wrap needs no special case.
/// <summary>
/// Our MPEG-TS muxer (ISO/IEC 13818-1): PAT/PMT with CRC-32, PES with PTS/DTS at 90 kHz, PCR on the video
/// PID (audio when audio-only), continuity counters, adaptation-field stuffing; H.264/HEVC as Annex B with
/// AUD and parameter sets before every random access point, AAC with ADTS, MP3 as is.
/// Writes 188-byte packets straight into the caller's <see cref="IBufferWriter{T}"/>. Split by concern:
/// this file (state, the <see cref="ISegmentMuxer"/> entry points, timing), <c>.Tables</c> (PAT/PMT),
/// <c>.Video</c> (H.264/HEVC access units) and <c>.Audio</c> (AAC/MP3 packing).
/// </summary>
public sealed partial class TsMuxer : ISegmentMuxer
{
    public const ushort PmtPid = 0x1000;
    public const ushort VideoPid = 0x100;
    public const ushort AudioPid = 0x101;
    public const ushort ProgramNumber = 1;
    public const ushort TransportStreamId = 1;

    /// <summary>PES payload bound for held audio: the 16-bit PES_packet_length minus the PTS-only header fields.</summary>
    private const int MaxAudioPesPayload = PesHeader.MaxPacketLength - 8;

    private const ushort NullPid = TsPacketHeader.MaxPid;

    /// <summary>How far back (90 kHz) a DTS may be and still be treated as jitter rather than a timeline reset: 1 s.</summary>
    private const long MaxPcrClampTicks = 90_000;

    private static readonly byte[] s_h264Aud = [0, 0, 0, 1, 0x09, 0xF0];              // primary_pic_type 7 (any), stop bit
    private static readonly byte[] s_hevcAud = [0, 0, 0, 1, 0x46, 0x01, 0x50];         // type 35, tid 1, pic_type 2 (any), stop bit

    private readonly TsMuxerOptions _options;

    private MediaCodec _video = MediaCodec.Unknown;
    private MediaCodec _audio = MediaCodec.Unknown;
    private TsStreamType _audioStreamType;
    private int _nalLengthSize = 4;
    private byte[] _vps = [];   // Annex B (start codes included), HEVC only
    private byte[] _sps = [];
    private byte[] _pps = [];
    private AudioSpecificConfig _aac;

    private bool _tablesWritten;
    private MediaCodec _tablesVideo;
    private MediaCodec _tablesAudio;
    private TsStreamType _tablesAudioType;
    private byte _pmtVersion;

    private byte _ccPat;
    private byte _ccPmt;
    private byte _ccVideo;
    private byte _ccAudio;
    private long _lastPcr = long.MinValue;

    private byte[]? _audioBuffer;
    private int _audioLength;
    private int _audioFrames;
    private long _audioPts;

    public TsMuxer()
        : this(TsMuxerOptions.Default)
    {
    }

    public TsMuxer(TsMuxerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxAudioFramesPerPes, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxAudioPesDurationMs);
        ArgumentOutOfRangeException.ThrowIfNegative(options.PcrIntervalMs);
        ArgumentOutOfRangeException.ThrowIfNegative(options.PcrMarginMs);
        ArgumentOutOfRangeException.ThrowIfNegative(options.TimestampOffset90kHz);
        _options = options;
    }

    /// <summary>Codec of the video track, or <see cref="MediaCodec.Unknown"/> when there is none (yet).</summary>
    public MediaCodec VideoCodec => _video;

    /// <summary>Codec of the audio track, or <see cref="MediaCodec.Unknown"/> when there is none (yet).</summary>
    public MediaCodec AudioCodec => _audio;

    /// <summary>Audio frames held for the next audio PES.</summary>
    public bool HasPendingAudio => _audioFrames > 0;

    /// <summary>Frames refused by <see cref="Write"/> (aggregate for logging).</summary>
    public long RejectedFrames { get; private set; }

    /// <summary>Reason of the last refusal.</summary>
    public MuxRejection LastRejection { get; private set; }

    /// <summary>TS packets written so far.</summary>
    public long PacketsWritten { get; private set; }

    /// <summary>Version of the last PMT written (5 bits).</summary>
    public byte PmtVersion => _pmtVersion;

    private ushort PcrPid => _video != MediaCodec.Unknown ? VideoPid : _audio != MediaCodec.Unknown ? AudioPid : NullPid;

    /// <summary>Codecs this muxer can carry.</summary>
    public bool IsSupported(MediaCodec codec) => IsSupportedCodec(codec);

    // A codec we carry, on a track of its kind.
    private static bool CarriesKind(in MediaFrame frame) => frame.Kind switch
    {
        MediaKind.Video => frame.Codec is MediaCodec.H264 or MediaCodec.Hevc,
        MediaKind.Audio => frame.Codec is MediaCodec.Aac or MediaCodec.Mp3,
        _ => false,
    };

    /// <summary>Codecs any TS muxer can carry.</summary>
    public static bool IsSupportedCodec(MediaCodec codec) =>
        codec is MediaCodec.H264 or MediaCodec.Hevc or MediaCodec.Aac or MediaCodec.Mp3;

    /// <summary>
    /// Applies a sequence header (AVC/HEVC decoder configuration record, AudioSpecificConfig): the parameter sets
    /// inserted before random access points and the ADTS fields. Writes nothing; a changed track set gets new
    /// tables (version + 1) with the next media frame or <see cref="BeginSegment"/>.
    /// </summary>
    public MuxRejection Configure(in MediaFrame config)
    {
        if (!CarriesKind(config))
        {
            return Reject(MuxRejection.UnsupportedCodec);
        }

        try
        {
            return config.Codec switch
            {
                MediaCodec.H264 or MediaCodec.Hevc => ConfigureVideo(config),
                MediaCodec.Aac => ConfigureAac(config),
                _ => MuxRejection.None, // MP3 has no configuration: nothing to keep.
            };
        }
        catch (CodecException)
        {
            return Reject(MuxRejection.InvalidConfig);
        }
    }

    /// <summary>
    /// Feeds one media frame, written as PES packets (audio may be held back and packed with the following frames
    /// until <see cref="Flush"/>). A config frame is applied as by <see cref="Configure"/>; an end-of-sequence frame
    /// writes nothing. Returns why a frame was refused, writing nothing (unsupported codec, no config yet,
    /// malformed). If the track set changed since the last tables, new PAT/PMT (version + 1) are written first.
    /// </summary>
    public MuxRejection Write(in MediaFrame frame, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (frame.Kind == MediaKind.Data)
        {
            return MuxRejection.UnsupportedCodec; // Script data has no place in our TS; not counted (every stream has metadata).
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
            return MuxRejection.None; // Nothing to carry: the next segment starts at a keyframe with its parameter sets anyway.
        }

        return frame.Kind == MediaKind.Video ? WriteVideo(frame, output) : WriteAudio(frame, output);
    }

        /// <summary>Writes any audio held back as a PES, so the output written so far is complete.</summary>
    public void Flush(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        FlushAudio(output);
    }

        private MuxRejection Reject(MuxRejection reason)
    {
        RejectedFrames++;
        LastRejection = reason;
        return reason;
    }

        /// <summary>The PCR base for a PES on <paramref name="pid"/> starting at <paramref name="dts"/>, or -1 for none.</summary>
    private long NextPcr(ushort pid, long dts, bool randomAccess)
    {
        if (pid != PcrPid)
        {
            return -1;
        }

        if (!randomAccess && _lastPcr != long.MinValue && dts - _options.PcrMarginMs * 90L - _lastPcr < _options.PcrIntervalMs * 90L)
        {
            return -1;
        }

        // Never backwards for small jitter (a DTS a little behind the last PCR, e.g. audio after video); a jump back
        // of more than a second is a timeline reset (publisher reconnect) and the clock follows it.
        var pcr = dts - (_options.PcrMarginMs * 90L);
        if (pcr < _lastPcr && _lastPcr - pcr <= MaxPcrClampTicks)
        {
            pcr = _lastPcr;
        }

        _lastPcr = pcr;
        return pcr & AdaptationField.TimestampMask;
    }

        private long ToClock(long milliseconds) => (milliseconds * 90) + _options.TimestampOffset90kHz;
}
