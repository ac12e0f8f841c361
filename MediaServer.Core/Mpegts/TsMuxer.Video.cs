using MediaServer.Core.Codecs;
using MediaServer.Core.Codecs.H264;
using MediaServer.Core.Codecs.Hevc;
using MediaServer.Core.Media;
using System.Buffers;

namespace MediaServer.Core.Mpegts;

/// <summary>H.264/HEVC access units as Annex B PES: our AUD first, the configuration's parameter sets before a random
/// access point that lacks them, PCR on random access points.</summary>
public sealed partial class TsMuxer
{
    private MuxRejection ConfigureVideo(in MediaFrame config)
    {
        if (config.Codec == MediaCodec.H264)
        {
            var record = AvcDecoderConfigurationRecord.Parse(config.Span);
            _sps = ToAnnexB(record.SequenceParameterSets);
            _pps = ToAnnexB(record.PictureParameterSets);
            _vps = [];
            _nalLengthSize = record.NalUnitLengthSize;
        }
        else
        {
            var record = HevcDecoderConfigurationRecord.Parse(config.Span);
            _vps = ToAnnexB(record.GetNalUnits(HevcNalUnitType.VideoParameterSet));
            _sps = ToAnnexB(record.GetNalUnits(HevcNalUnitType.SequenceParameterSet));
            _pps = ToAnnexB(record.GetNalUnits(HevcNalUnitType.PictureParameterSet));
            _nalLengthSize = record.NalUnitLengthSize;
        }

        _video = config.Codec;
        return MuxRejection.None;
    }

        private MuxRejection WriteVideo(in MediaFrame frame, IBufferWriter<byte> output)
    {
        if (frame.Codec != _video)
        {
            return Reject(MuxRejection.NoConfig);
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
            return Reject(MuxRejection.MalformedFrame);
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
        return MuxRejection.None;
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
}
