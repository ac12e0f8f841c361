using System.Buffers.Binary;

namespace MediaServer.Benchmarks.Load;

/// <summary>
/// What the load tool needs from a TS segment (ISO/IEC 13818-1): the first and last PTS/DTS (90 kHz) of the
/// first video and the first audio elementary stream of the PMT. A small independent reader: PAT → PMT → PES
/// headers of packets with payload_unit_start_indicator; everything else is skipped.
/// </summary>
internal struct TsScan
{
    public long FirstVideoPts = -1;
    public long FirstVideoDts = -1;
    public long LastVideoDts = -1;
    public long FirstAudioPts = -1;
    public long LastAudioPts = -1;

    /// <summary>End of the last audio PES (its PTS plus its ADTS frames × 1024 samples), or -1 when unknown.</summary>
    public long LastAudioEnd = -1;
    public int Packets;

    // The audio PES being read, to count its ADTS frames.
    private byte[]? _audio;
    private int _audioLength;
    private long _audioPts = -1;

    private int _pmtPid = -1;
    private int _videoPid = -1;
    private int _audioPid = -1;

    public TsScan()
    {
    }

    public static TsScan Read(ReadOnlySpan<byte> ts)
    {
        var scan = new TsScan();
        for (var offset = 0; offset + 188 <= ts.Length; offset += 188)
        {
            scan.Packet(ts.Slice(offset, 188));
        }

        scan.EndAudioPes();
        return scan;
    }

    private void Packet(ReadOnlySpan<byte> packet)
    {
        if (packet[0] != 0x47)
        {
            return;
        }

        Packets++;
        var start = (packet[1] & 0x40) != 0;
        var pid = ((packet[1] & 0x1F) << 8) | packet[2];
        var control = (packet[3] >> 4) & 3;
        if ((control & 1) == 0)
        {
            return;
        }

        var offset = 4;
        if ((control & 2) != 0)
        {
            offset += 1 + packet[4];
        }

        if (offset >= 188)
        {
            return;
        }

        var payload = packet[offset..];
        if (!start)
        {
            if (pid == _audioPid && _audioPts >= 0)
            {
                AppendAudio(payload);
            }

            return;
        }

        if (pid == 0 || pid == _pmtPid)
        {
            Section(pid, payload);
        }
        else if (pid == _videoPid || pid == _audioPid)
        {
            Pes(pid == _videoPid, payload);
        }
    }

    private void Section(int pid, ReadOnlySpan<byte> payload)
    {
        var pointer = payload[0];
        if (1 + pointer + 8 > payload.Length)
        {
            return;
        }

        var section = payload[(1 + pointer)..];
        var length = Math.Min(((section[1] & 0x0F) << 8) | section[2], section.Length - 3);
        var end = 3 + length - 4; // before the CRC
        if (pid == 0 && section[0] == 0x00)
        {
            for (var i = 8; i + 4 <= end; i += 4)
            {
                var program = BinaryPrimitives.ReadUInt16BigEndian(section[i..]);
                if (program != 0)
                {
                    _pmtPid = ((section[i + 2] & 0x1F) << 8) | section[i + 3];
                    return;
                }
            }
        }
        else if (section[0] == 0x02 && section.Length >= 12)
        {
            var infoLength = ((section[10] & 0x0F) << 8) | section[11];
            for (var i = 12 + infoLength; i + 5 <= end; i += 5 + (((section[i + 3] & 0x0F) << 8) | section[i + 4]))
            {
                var type = section[i];
                var elementary = ((section[i + 1] & 0x1F) << 8) | section[i + 2];
                if (type is 0x1B or 0x24 && _videoPid < 0)
                {
                    _videoPid = elementary;
                }
                else if (type is 0x0F or 0x03 or 0x04 && _audioPid < 0)
                {
                    _audioPid = elementary;
                }
            }
        }
    }

    private void Pes(bool video, ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 14 || payload[0] != 0 || payload[1] != 0 || payload[2] != 1)
        {
            return;
        }

        var flags = payload[7] >> 6;
        if ((flags & 2) == 0)
        {
            return;
        }

        var pts = Timestamp(payload[9..]);
        var dts = (flags & 1) != 0 && payload.Length >= 19 ? Timestamp(payload[14..]) : pts;
        if (video)
        {
            if (FirstVideoPts < 0)
            {
                FirstVideoPts = pts;
                FirstVideoDts = dts;
            }

            LastVideoDts = dts;
        }
        else
        {
            if (FirstAudioPts < 0)
            {
                FirstAudioPts = pts;
            }

            LastAudioPts = pts;
            EndAudioPes();
            _audioPts = pts;
            var headerEnd = 9 + payload[8];
            if (headerEnd < payload.Length)
            {
                AppendAudio(payload[headerEnd..]);
            }
        }
    }

    private void AppendAudio(ReadOnlySpan<byte> data)
    {
        _audio ??= new byte[64 * 1024];
        if (_audioLength + data.Length > _audio.Length)
        {
            Array.Resize(ref _audio, Math.Max(_audio.Length * 2, _audioLength + data.Length));
        }

        data.CopyTo(_audio.AsSpan(_audioLength));
        _audioLength += data.Length;
    }

    // ADTS (ISO/IEC 14496-3 §1.A.2): syncword 0xFFF, sampling_frequency_index, frame_length (13 bits) and
    // number_of_raw_data_blocks_in_frame + 1 frames of 1024 samples each.
    private void EndAudioPes()
    {
        if (_audioPts < 0 || _audio is null)
        {
            return;
        }

        ReadOnlySpan<int> rates = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];
        var data = _audio.AsSpan(0, _audioLength);
        long samples90k = 0;
        var i = 0;
        var valid = false;
        while (i + 7 <= data.Length && data[i] == 0xFF && (data[i + 1] & 0xF0) == 0xF0)
        {
            var rateIndex = (data[i + 2] >> 2) & 0x0F;
            var length = ((data[i + 3] & 0x03) << 11) | (data[i + 4] << 3) | (data[i + 5] >> 5);
            if (rateIndex >= rates.Length || length < 7)
            {
                break;
            }

            samples90k += ((data[i + 6] & 0x03) + 1) * 1024L * 90_000 / rates[rateIndex];
            valid = true;
            i += length;
        }

        LastAudioEnd = valid ? _audioPts + samples90k : -1;
        _audioPts = -1;
        _audioLength = 0;
    }

    // '0010'/'0011' | PTS[32..30] | 1 | PTS[29..15] | 1 | PTS[14..0] | 1
    private static long Timestamp(ReadOnlySpan<byte> b) =>
        ((long)(b[0] & 0x0E) << 29) | ((long)b[1] << 22) | ((long)(b[2] & 0xFE) << 14) | ((long)b[3] << 7) | ((long)b[4] >> 1);
}
