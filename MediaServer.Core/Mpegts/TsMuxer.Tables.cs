using System.Buffers;
using MediaServer.Core.Media;

namespace MediaServer.Core.Mpegts;

/// <summary>Program-specific information: PAT and PMT (ISO/IEC 13818-1 §2.4.4), at the start of every segment and
/// again, version + 1, when the track set changes.</summary>
public sealed partial class TsMuxer
{
        /// <summary>Writes PAT and PMT for the current track set: what every segment starts with.</summary>
    public void BeginSegment(IBufferWriter<byte> output)
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

        private void EnsureTables(IBufferWriter<byte> output)
    {
        if (_tablesWritten && _tablesVideo == _video && _tablesAudio == _audio && _tablesAudioType == _audioStreamType)
        {
            return;
        }

        // Held audio belongs to the old program definition.
        FlushAudio(output);
        BeginSegment(output);
    }

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
