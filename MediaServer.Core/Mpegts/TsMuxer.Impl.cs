using System.Buffers;
using MediaServer.Core.Codecs;
using MediaServer.Core.Codecs.Aac;
using MediaServer.Core.Codecs.H264;
using MediaServer.Core.Codecs.Hevc;
using MediaServer.Core.Codecs.Mp3;
using MediaServer.Core.Media;

namespace MediaServer.Core.Mpegts;

/// <summary>Why <see cref="TsMuxer.Write"/> refused a frame.</summary>
public enum TsMuxRejection : byte
{
    None = 0,

    /// <summary>A codec (or kind) the muxer cannot carry.</summary>
    UnsupportedCodec = 1,

    /// <summary>Media before its codec configuration.</summary>
    NoConfig = 2,

    /// <summary>A configuration record we cannot parse or cannot express in TS (e.g. AAC object type 5 core).</summary>
    InvalidConfig = 3,

    /// <summary>Media whose NAL lengths lie, or an audio frame too long for its header.</summary>
    MalformedFrame = 4,
}

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
//   WriteTables does not flush: the segmenter calls Flush before closing a segment.
// - Timestamps: ms × 90 + TimestampOffset90kHz on a 64-bit line, written mod 2^33; PCR decisions use the 64-bit
//   line, so the 26.5 h wrap needs no special case.
public sealed partial class TsMuxer
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

    public partial MediaCodec VideoCodec => _video;

    public partial MediaCodec AudioCodec => _audio;

    /// <summary>Audio frames held for the next audio PES.</summary>
    public bool HasPendingAudio => _audioFrames > 0;

    /// <summary>Frames refused by <see cref="Write"/> (aggregate for logging).</summary>
    public long RejectedFrames { get; private set; }

    /// <summary>Reason of the last refusal.</summary>
    public TsMuxRejection LastRejection { get; private set; }

    /// <summary>TS packets written so far.</summary>
    public long PacketsWritten { get; private set; }

    /// <summary>Version of the last PMT written (5 bits).</summary>
    public byte PmtVersion => _pmtVersion;

    private ushort PcrPid => _video != MediaCodec.Unknown ? VideoPid : _audio != MediaCodec.Unknown ? AudioPid : NullPid;

    public partial bool Write(in MediaFrame frame, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var isVideoCodec = frame.Codec is MediaCodec.H264 or MediaCodec.Hevc;
        var isAudioCodec = frame.Codec is MediaCodec.Aac or MediaCodec.Mp3;
        if (frame.Kind == MediaKind.Data)
        {
            return false; // Script data has no place in our TS; not counted as a rejection (every stream has metadata).
        }

        if ((frame.Kind == MediaKind.Video && !isVideoCodec) || (frame.Kind == MediaKind.Audio && !isAudioCodec))
        {
            return Reject(TsMuxRejection.UnsupportedCodec);
        }

        if (frame.IsConfig)
        {
            return ApplyConfig(frame);
        }

        if ((frame.Flags & FrameFlags.EndOfSequence) != 0)
        {
            return true; // Nothing to carry: the next segment starts at a keyframe with its parameter sets anyway.
        }

        return frame.Kind == MediaKind.Video ? WriteVideo(frame, output) : WriteAudio(frame, output);
    }

    public partial void WriteTables(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (_tablesWritten && (_tablesVideo != _video || _tablesAudio != _audio || _tablesAudioType != _audioStreamType))
        {
            _pmtVersion = (byte)((_pmtVersion + 1) & 0x1F);
        }

        _tablesWritten = true;
        _tablesVideo = _video;
        _tablesAudio = _audio;
        _tablesAudioType = _audioStreamType;

        var packet = StartPsiPacket(output, 0, ref _ccPat);
        var length = ProgramAssociationTable.WriteSection(packet[5..], TransportStreamId, 0, ProgramNumber, PmtPid);
        packet[(5 + length)..].Fill(0xFF);
        CommitPacket(output);

        Span<PmtStreamEntry> streams = stackalloc PmtStreamEntry[2];
        var count = 0;
        if (_video != MediaCodec.Unknown)
        {
            streams[count++] = new PmtStreamEntry(_video == MediaCodec.H264 ? TsStreamType.H264 : TsStreamType.Hevc, VideoPid);
        }

        if (_audio != MediaCodec.Unknown)
        {
            streams[count++] = new PmtStreamEntry(_audioStreamType, AudioPid);
        }

        packet = StartPsiPacket(output, PmtPid, ref _ccPmt);
        length = ProgramMapTable.WriteSection(packet[5..], ProgramNumber, _pmtVersion, PcrPid, streams[..count]);
        packet[(5 + length)..].Fill(0xFF);
        CommitPacket(output);
    }

    public partial void Flush(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        FlushAudio(output);
    }

    private bool Reject(TsMuxRejection reason)
    {
        RejectedFrames++;
        LastRejection = reason;
        return false;
    }

    private bool ApplyConfig(in MediaFrame frame)
    {
        try
        {
            switch (frame.Codec)
            {
                case MediaCodec.H264:
                {
                    var record = AvcDecoderConfigurationRecord.Parse(frame.Span);
                    _sps = ToAnnexB(record.SequenceParameterSets);
                    _pps = ToAnnexB(record.PictureParameterSets);
                    _vps = [];
                    _nalLengthSize = record.NalUnitLengthSize;
                    _video = MediaCodec.H264;
                    return true;
                }

                case MediaCodec.Hevc:
                {
                    var record = HevcDecoderConfigurationRecord.Parse(frame.Span);
                    _vps = ToAnnexB(record.GetNalUnits(HevcNalUnitType.VideoParameterSet));
                    _sps = ToAnnexB(record.GetNalUnits(HevcNalUnitType.SequenceParameterSet));
                    _pps = ToAnnexB(record.GetNalUnits(HevcNalUnitType.PictureParameterSet));
                    _nalLengthSize = record.NalUnitLengthSize;
                    _video = MediaCodec.Hevc;
                    return true;
                }

                case MediaCodec.Aac:
                {
                    var config = AudioSpecificConfig.Parse(frame.Span);
                    AdtsHeader.For(config, 0); // throws if ADTS cannot express it
                    _aac = config;
                    _audio = MediaCodec.Aac;
                    _audioStreamType = TsStreamType.AacAdts;
                    return true;
                }

                default:
                    return true; // MP3 has no configuration: nothing to keep.
            }
        }
        catch (CodecException)
        {
            return Reject(TsMuxRejection.InvalidConfig);
        }
    }

    private static byte[] ToAnnexB(IEnumerable<byte[]> units)
    {
        using var stream = new MemoryStream();
        foreach (var unit in units)
        {
            stream.Write(AnnexB.StartCode);
            stream.Write(unit);
        }

        return stream.ToArray();
    }

    private void EnsureTables(IBufferWriter<byte> output)
    {
        if (_tablesWritten && _tablesVideo == _video && _tablesAudio == _audio && _tablesAudioType == _audioStreamType)
        {
            return;
        }

        // Held audio belongs to the old program definition.
        FlushAudio(output);
        WriteTables(output);
    }

    private bool WriteVideo(in MediaFrame frame, IBufferWriter<byte> output)
    {
        if (frame.Codec != _video)
        {
            return Reject(TsMuxRejection.NoConfig);
        }

        var hevc = _video == MediaCodec.Hevc;
        var aud = hevc ? s_hevcAud : s_h264Aud;
        var data = frame.Span;

        // Pass 1: validate every NAL length and size the access unit, before anything is written.
        int payload;
        bool hasRap, hasVps, hasSps, hasPps;
        try
        {
            payload = aud.Length;
            hasRap = hasVps = hasSps = hasPps = false;
            var reader = new LengthPrefixedNalReader(data, _nalLengthSize);
            while (reader.TryRead(out var nal))
            {
                if (!Classify(nal, hevc, ref hasRap, ref hasVps, ref hasSps, ref hasPps))
                {
                    continue; // an AUD: ours replaces it
                }

                payload += AnnexB.StartCode.Length + nal.Length;
            }
        }
        catch (CodecException)
        {
            return Reject(TsMuxRejection.MalformedFrame);
        }

        var randomAccess = hasRap || frame.IsKeyframe;
        var insertVps = randomAccess && hevc && !hasVps;
        var insertSps = randomAccess && !hasSps;
        var insertPps = randomAccess && !hasPps;
        payload += (insertVps ? _vps.Length : 0) + (insertSps ? _sps.Length : 0) + (insertPps ? _pps.Length : 0);

        EnsureTables(output);
        if (_audioFrames > 0 && frame.Timestamp - _audioPts >= _options.MaxAudioPesDurationMs)
        {
            FlushAudio(output);
        }

        var dts = ToClock(frame.Timestamp);
        var pts = ToClock(frame.PresentationTimestamp);
        var pcr = NextPcr(VideoPid, dts, randomAccess);
        var header = new PesHeader(PesHeader.VideoStreamId, pts, dts, payload);
        Span<byte> headerBytes = stackalloc byte[PesHeader.MaxLength];
        var headerLength = header.Write(headerBytes);

        var packetizer = new TsPesPacketizer(output, VideoPid, _ccVideo, headerLength + payload, randomAccess, pcr);
        packetizer.Append(headerBytes[..headerLength]);
        packetizer.Append(aud);
        if (insertVps)
        {
            packetizer.Append(_vps);
        }

        if (insertSps)
        {
            packetizer.Append(_sps);
        }

        if (insertPps)
        {
            packetizer.Append(_pps);
        }

        var nals = new LengthPrefixedNalReader(data, _nalLengthSize);
        while (nals.TryRead(out var nal))
        {
            if (IsAud(nal, hevc))
            {
                continue;
            }

            packetizer.Append(AnnexB.StartCode);
            packetizer.Append(nal);
        }

        _ccVideo = packetizer.Complete();
        PacketsWritten += packetizer.Packets;
        return true;
    }

    private static bool IsAud(ReadOnlySpan<byte> nal, bool hevc) => hevc
        ? HevcNal.GetType(nal[0]) == HevcNalUnitType.AccessUnitDelimiter
        : H264Nal.GetType(nal[0]) == NalUnitType.AccessUnitDelimiter;

    /// <summary>Notes what a NAL unit is; false for an AUD (to be dropped).</summary>
    private static bool Classify(ReadOnlySpan<byte> nal, bool hevc, ref bool rap, ref bool vps, ref bool sps, ref bool pps)
    {
        if (hevc)
        {
            var type = HevcNal.GetType(nal[0]);
            rap |= HevcNal.IsIrap(type);
            vps |= type == HevcNalUnitType.VideoParameterSet;
            sps |= type == HevcNalUnitType.SequenceParameterSet;
            pps |= type == HevcNalUnitType.PictureParameterSet;
            return type != HevcNalUnitType.AccessUnitDelimiter;
        }

        var avcType = H264Nal.GetType(nal[0]);
        rap |= avcType == NalUnitType.IdrSlice;
        sps |= avcType == NalUnitType.SequenceParameterSet;
        pps |= avcType == NalUnitType.PictureParameterSet;
        return avcType != NalUnitType.AccessUnitDelimiter;
    }

    private bool WriteAudio(in MediaFrame frame, IBufferWriter<byte> output)
    {
        var data = frame.Span;
        AdtsHeader adts = default;
        var length = data.Length;
        if (frame.Codec == MediaCodec.Aac)
        {
            if (_audio != MediaCodec.Aac)
            {
                return Reject(TsMuxRejection.NoConfig);
            }

            try
            {
                adts = AdtsHeader.For(_aac, data.Length);
            }
            catch (CodecException)
            {
                return Reject(TsMuxRejection.MalformedFrame);
            }

            length += AdtsHeader.Length;
        }
        else
        {
            TsStreamType type;
            try
            {
                type = MpegAudioFrameHeader.Parse(data).IsMpeg1 ? TsStreamType.Mpeg1Audio : TsStreamType.Mpeg2Audio;
            }
            catch (CodecException)
            {
                return Reject(TsMuxRejection.MalformedFrame);
            }

            if (length > MaxAudioPesPayload)
            {
                return Reject(TsMuxRejection.MalformedFrame);
            }

            if (_audio != MediaCodec.Mp3 || _audioStreamType != type)
            {
                _audio = MediaCodec.Mp3;
                _audioStreamType = type;
            }
        }

        EnsureTables(output);
        var pts = frame.PresentationTimestamp;
        if (_audioFrames > 0 &&
            (pts - _audioPts >= _options.MaxAudioPesDurationMs || pts < _audioPts || _audioLength + length > MaxAudioPesPayload))
        {
            FlushAudio(output);
        }

        _audioBuffer ??= new byte[MaxAudioPesPayload];
        var destination = _audioBuffer.AsSpan(_audioLength);
        if (frame.Codec == MediaCodec.Aac)
        {
            adts.Write(destination);
            destination = destination[AdtsHeader.Length..];
        }

        data.CopyTo(destination);
        _audioLength += length;
        if (_audioFrames++ == 0)
        {
            _audioPts = pts;
        }

        if (_audioFrames >= _options.MaxAudioFramesPerPes)
        {
            FlushAudio(output);
        }

        return true;
    }

    private void FlushAudio(IBufferWriter<byte> output)
    {
        if (_audioFrames == 0)
        {
            return;
        }

        var pts = ToClock(_audioPts);
        var pcr = NextPcr(AudioPid, pts, randomAccess: false);
        var header = new PesHeader(PesHeader.AudioStreamId, pts, pts, _audioLength);
        Span<byte> headerBytes = stackalloc byte[PesHeader.MaxLength];
        var headerLength = header.Write(headerBytes);
        var packetizer = new TsPesPacketizer(output, AudioPid, _ccAudio, headerLength + _audioLength, randomAccess: false, pcr);
        packetizer.Append(headerBytes[..headerLength]);
        packetizer.Append(_audioBuffer.AsSpan(0, _audioLength));
        _ccAudio = packetizer.Complete();
        PacketsWritten += packetizer.Packets;
        _audioFrames = 0;
        _audioLength = 0;
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

    private static Span<byte> StartPsiPacket(IBufferWriter<byte> output, ushort pid, ref byte continuityCounter)
    {
        var packet = output.GetSpan(TsPacketHeader.PacketLength)[..TsPacketHeader.PacketLength];
        new TsPacketHeader(pid, true, AdaptationFieldControl.PayloadOnly, continuityCounter).Write(packet);
        continuityCounter = (byte)((continuityCounter + 1) & 0x0F);
        packet[4] = 0; // pointer_field: the section starts right after it
        return packet;
    }

    private void CommitPacket(IBufferWriter<byte> output)
    {
        output.Advance(TsPacketHeader.PacketLength);
        PacketsWritten++;
    }
}
