using System.Buffers;
using MediaServer.Core.Codecs;
using MediaServer.Core.Codecs.Aac;
using MediaServer.Core.Codecs.Mp3;
using MediaServer.Core.Media;

namespace MediaServer.Core.Mpegts;

/// <summary>Audio: AAC frames with ADTS headers built from the AudioSpecificConfig, MP3 as is, several frames packed
/// per PES (see the implementation notes in TsMuxer.cs).</summary>
public sealed partial class TsMuxer
{
    private MuxRejection ConfigureAac(in MediaFrame config)
    {
        var parsed = AudioSpecificConfig.Parse(config.Span);
        AdtsHeader.For(parsed, 0); // throws if ADTS cannot express it
        _aac = parsed;
        _audio = MediaCodec.Aac;
        _audioStreamType = TsStreamType.AacAdts;
        return MuxRejection.None;
    }

        private MuxRejection WriteAudio(in MediaFrame frame, IBufferWriter<byte> output)
    {
        var data = frame.Span;
        AdtsHeader adts = default;
        var length = data.Length;
        if (frame.Codec == MediaCodec.Aac)
        {
            if (_audio != MediaCodec.Aac)
            {
                return Reject(MuxRejection.NoConfig);
            }

            try
            {
                adts = AdtsHeader.For(_aac, data.Length);
            }
            catch (CodecException)
            {
                return Reject(MuxRejection.MalformedFrame);
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
                return Reject(MuxRejection.MalformedFrame);
            }

            if (length > MaxAudioPesPayload)
            {
                return Reject(MuxRejection.MalformedFrame);
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

        return MuxRejection.None;
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
}
