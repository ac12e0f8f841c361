namespace MediaServer.Tests.Infrastructure;

/// <summary>
/// A small, test-only MPEG-TS reader written independently of the muxer (no shared code): packets → PAT/PMT
/// (CRC checked with a bitwise CRC) → PES reassembly with PTS/DTS, continuity counter checks, PCR list.
/// Problems are collected in <see cref="Errors"/> rather than thrown, so a test can assert on all of them.
/// </summary>
public sealed class TsTestDemuxer
{
    public sealed record Packet(int Index, int Pid, bool PayloadUnitStart, int AdaptationFieldControl, int ContinuityCounter, bool RandomAccess, long? Pcr27MHz, int AdaptationFieldLength, int PayloadLength);

    public sealed record PatInfo(int TransportStreamId, int Version, int ProgramNumber, int PmtPid, byte[] Section);

    public sealed record PmtInfo(int ProgramNumber, int Version, int PcrPid, IReadOnlyList<(int StreamType, int Pid)> Streams, byte[] Section);

    public sealed record Pes(int Pid, int StreamId, long Pts, long? Dts, byte[] Data, bool RandomAccess, int PacketLengthField, bool DataAlignment, int FirstPacketIndex);

    public List<Packet> Packets { get; } = [];

    public List<PatInfo> Pats { get; } = [];

    public List<PmtInfo> Pmts { get; } = [];

    public List<Pes> PesPackets { get; } = [];

    public List<(int Pid, long Pcr27MHz, int PacketIndex)> Pcrs { get; } = [];

    public List<string> Errors { get; } = [];

    private readonly Dictionary<int, int> _lastCc = [];
    private readonly Dictionary<int, (List<byte> Data, bool RandomAccess, int Index)> _openPes = [];
    private readonly HashSet<int> _pmtPids = [];

    public static TsTestDemuxer Parse(ReadOnlySpan<byte> ts)
    {
        var demuxer = new TsTestDemuxer();
        if (ts.Length % 188 != 0)
        {
            demuxer.Errors.Add($"length {ts.Length} is not a multiple of 188");
        }

        for (var i = 0; i + 188 <= ts.Length; i += 188)
        {
            demuxer.ReadPacket(i / 188, ts.Slice(i, 188));
        }

        foreach (var pid in demuxer._openPes.Keys.ToList())
        {
            demuxer.FinishPes(pid);
        }

        // PES are completed when the next one starts on their PID: order them by where they start.
        demuxer.PesPackets.Sort((a, b) => a.FirstPacketIndex.CompareTo(b.FirstPacketIndex));
        return demuxer;
    }

    public IEnumerable<Pes> PesOn(int pid) => PesPackets.Where(p => p.Pid == pid);

    /// <summary>CRC-32/MPEG-2, bit by bit (deliberately not table-driven like the muxer's).</summary>
    public static uint Crc32(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            for (var bit = 7; bit >= 0; bit--)
            {
                var top = ((crc >> 31) ^ (uint)(b >> bit)) & 1;
                crc <<= 1;
                if (top != 0)
                {
                    crc ^= 0x04C11DB7;
                }
            }
        }

        return crc;
    }

    private void ReadPacket(int index, ReadOnlySpan<byte> p)
    {
        if (p[0] != 0x47)
        {
            Errors.Add($"packet {index}: sync byte 0x{p[0]:X2}");
            return;
        }

        var pusi = (p[1] & 0x40) != 0;
        var pid = ((p[1] & 0x1F) << 8) | p[2];
        var afc = (p[3] >> 4) & 3;
        var cc = p[3] & 0x0F;
        var hasPayload = (afc & 1) != 0;
        if (afc == 0)
        {
            Errors.Add($"packet {index}: reserved adaptation_field_control");
        }

        if (_lastCc.TryGetValue(pid, out var last))
        {
            var expected = hasPayload ? (last + 1) & 0x0F : last;
            if (cc != expected)
            {
                Errors.Add($"packet {index} pid 0x{pid:X}: continuity counter {cc}, expected {expected}");
            }
        }

        _lastCc[pid] = cc;

        var offset = 4;
        var rai = false;
        long? pcr = null;
        var afLength = 0;
        if ((afc & 2) != 0)
        {
            afLength = p[4];
            if (afLength > 183 || (hasPayload && afLength > 182))
            {
                Errors.Add($"packet {index}: adaptation field length {afLength}");
                return;
            }

            if (afLength > 0)
            {
                var flags = p[5];
                rai = (flags & 0x40) != 0;
                if ((flags & 0x10) != 0)
                {
                    var b = p.Slice(6, 6);
                    long pcrBase = ((long)b[0] << 25) | ((long)b[1] << 17) | ((long)b[2] << 9) | ((long)b[3] << 1) | ((long)b[4] >> 7);
                    var ext = ((b[4] & 1) << 8) | b[5];
                    if ((b[4] & 0x7E) != 0x7E)
                    {
                        Errors.Add($"packet {index}: PCR reserved bits not set");
                    }

                    pcr = (pcrBase * 300) + ext;
                    Pcrs.Add((pid, pcr.Value, index));
                }

                var stuffingStart = 6 + ((flags & 0x10) != 0 ? 6 : 0);
                for (var i = stuffingStart; i < 5 + afLength; i++)
                {
                    if (p[i] != 0xFF)
                    {
                        Errors.Add($"packet {index}: stuffing byte 0x{p[i]:X2}");
                        break;
                    }
                }
            }

            offset = 5 + afLength;
        }

        var payload = hasPayload ? p[offset..] : [];
        Packets.Add(new Packet(index, pid, pusi, afc, cc, rai, pcr, afLength, payload.Length));
        if (!hasPayload)
        {
            return;
        }

        if (pid == 0 || _pmtPids.Contains(pid))
        {
            ReadPsi(index, pid, pusi, payload);
            return;
        }

        if (pusi)
        {
            FinishPes(pid);
            _openPes[pid] = ([.. payload.ToArray()], rai, index);
        }
        else if (_openPes.TryGetValue(pid, out var open))
        {
            open.Data.AddRange(payload.ToArray());
        }
        else
        {
            Errors.Add($"packet {index} pid 0x{pid:X}: payload without a PES start");
        }
    }

    private void ReadPsi(int index, int pid, bool pusi, ReadOnlySpan<byte> payload)
    {
        if (!pusi)
        {
            Errors.Add($"packet {index}: PSI continuation not supported by the test demuxer");
            return;
        }

        var pointer = payload[0];
        var section = payload[(1 + pointer)..];
        var sectionLength = ((section[1] & 0x0F) << 8) | section[2];
        if (3 + sectionLength > section.Length)
        {
            Errors.Add($"packet {index}: section longer than one packet");
            return;
        }

        var bytes = section[..(3 + sectionLength)].ToArray();
        if (Crc32(bytes) != 0)
        {
            Errors.Add($"packet {index} pid 0x{pid:X}: PSI CRC mismatch");
        }

        for (var i = 3 + sectionLength; i < section.Length; i++)
        {
            if (section[i] != 0xFF)
            {
                Errors.Add($"packet {index}: PSI stuffing byte 0x{section[i]:X2}");
                break;
            }
        }

        var version = (bytes[5] >> 1) & 0x1F;
        if (bytes[0] == 0x00 && pid == 0)
        {
            var program = (bytes[8] << 8) | bytes[9];
            var pmtPid = ((bytes[10] & 0x1F) << 8) | bytes[11];
            _pmtPids.Add(pmtPid);
            Pats.Add(new PatInfo((bytes[3] << 8) | bytes[4], version, program, pmtPid, bytes));
        }
        else if (bytes[0] == 0x02)
        {
            var pcrPid = ((bytes[8] & 0x1F) << 8) | bytes[9];
            var infoLength = ((bytes[10] & 0x0F) << 8) | bytes[11];
            var streams = new List<(int, int)>();
            for (var o = 12 + infoLength; o < bytes.Length - 4;)
            {
                var esInfo = ((bytes[o + 3] & 0x0F) << 8) | bytes[o + 4];
                streams.Add((bytes[o], ((bytes[o + 1] & 0x1F) << 8) | bytes[o + 2]));
                o += 5 + esInfo;
            }

            Pmts.Add(new PmtInfo((bytes[3] << 8) | bytes[4], version, pcrPid, streams, bytes));
        }
        else
        {
            Errors.Add($"packet {index}: unexpected table id {bytes[0]}");
        }
    }

    private void FinishPes(int pid)
    {
        if (!_openPes.Remove(pid, out var open))
        {
            return;
        }

        var d = open.Data.ToArray();
        if (d.Length < 9 || d[0] != 0 || d[1] != 0 || d[2] != 1)
        {
            Errors.Add($"pid 0x{pid:X}: PES without start code");
            return;
        }

        var streamId = d[3];
        var length = (d[4] << 8) | d[5];
        if (length != 0 && length != d.Length - 6)
        {
            Errors.Add($"pid 0x{pid:X}: PES_packet_length {length} but {d.Length - 6} bytes follow");
        }

        if ((d[6] & 0xC0) != 0x80)
        {
            Errors.Add($"pid 0x{pid:X}: PES header '10' bits missing");
        }

        var ptsDts = d[7] >> 6;
        var headerLength = d[8];
        long pts = -1;
        long? dts = null;
        if (ptsDts is 2 or 3)
        {
            pts = ReadTimestamp(pid, d.AsSpan(9), ptsDts == 3 ? 3 : 2);
        }
        else
        {
            Errors.Add($"pid 0x{pid:X}: PES without PTS");
        }

        if (ptsDts == 3)
        {
            dts = ReadTimestamp(pid, d.AsSpan(14), 1);
        }

        PesPackets.Add(new Pes(pid, streamId, pts, dts, d[(9 + headerLength)..], open.RandomAccess, length, (d[6] & 0x04) != 0, open.Index));
    }

    private long ReadTimestamp(int pid, ReadOnlySpan<byte> b, int prefix)
    {
        if (b[0] >> 4 != prefix || (b[0] & 1) == 0 || (b[2] & 1) == 0 || (b[4] & 1) == 0)
        {
            Errors.Add($"pid 0x{pid:X}: timestamp prefix or marker bits wrong");
        }

        return ((long)((b[0] >> 1) & 7) << 30) | ((long)b[1] << 22) | ((long)(b[2] >> 1) << 15) | ((long)b[3] << 7) | ((long)b[4] >> 1);
    }
}
