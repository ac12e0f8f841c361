using System.Buffers;
using System.Diagnostics;

namespace MediaServer.Core.Mpegts;

/// <summary>
/// Cuts one PES packet of known total size into 188-byte TS packets written straight into the output:
/// the first packet has payload_unit_start set and the optional adaptation field (random access, PCR); the
/// last one is padded with adaptation-field stuffing so the PES ends exactly at a packet boundary.
/// Callers append the PES bytes in pieces (header, start codes, NAL units...) without an intermediate buffer.
/// </summary>
internal ref struct TsPesPacketizer
{
    private const int PayloadCapacity = TsPacketHeader.PacketLength - TsPacketHeader.Length;

    private readonly IBufferWriter<byte> _output;
    private readonly ushort _pid;
    private Span<byte> _packet;
    private int _position;
    private int _remaining;
    private byte _continuityCounter;

    public TsPesPacketizer(IBufferWriter<byte> output, ushort pid, byte continuityCounter, int totalLength, bool randomAccess, long pcrBase)
    {
        Debug.Assert(totalLength > 0, "A PES has at least its header.");
        _output = output;
        _pid = pid;
        _continuityCounter = continuityCounter;
        _remaining = totalLength;
        Packets = 0;
        StartPacket(first: true, randomAccess, pcrBase);
    }

    /// <summary>TS packets started so far.</summary>
    public int Packets { get; private set; }

    public void Append(scoped ReadOnlySpan<byte> data)
    {
        Debug.Assert(data.Length <= _remaining, "More PES bytes than announced.");
        while (!data.IsEmpty)
        {
            if (_position == TsPacketHeader.PacketLength)
            {
                _output.Advance(TsPacketHeader.PacketLength);
                StartPacket(first: false, randomAccess: false, pcrBase: -1);
            }

            var count = Math.Min(data.Length, TsPacketHeader.PacketLength - _position);
            data[..count].CopyTo(_packet[_position..]);
            _position += count;
            _remaining -= count;
            data = data[count..];
        }
    }

    /// <summary>Commits the last packet; returns the continuity counter for the next packet of this PID.</summary>
    public byte Complete()
    {
        Debug.Assert(_remaining == 0 && _position == TsPacketHeader.PacketLength, "PES shorter than announced.");
        _output.Advance(TsPacketHeader.PacketLength);
        return _continuityCounter;
    }

    private void StartPacket(bool first, bool randomAccess, long pcrBase)
    {
        _packet = _output.GetSpan(TsPacketHeader.PacketLength)[..TsPacketHeader.PacketLength];
        var adaptationLength = AdaptationField.GetMinimumLength(randomAccess, pcrBase >= 0);
        if (_remaining < PayloadCapacity - adaptationLength)
        {
            // Last packet: stuff so the payload ends exactly at byte 188.
            adaptationLength = PayloadCapacity - _remaining;
        }

        new TsPacketHeader(
            _pid,
            first,
            adaptationLength > 0 ? AdaptationFieldControl.AdaptationAndPayload : AdaptationFieldControl.PayloadOnly,
            _continuityCounter).Write(_packet);
        _continuityCounter = (byte)((_continuityCounter + 1) & 0x0F);
        if (adaptationLength > 0)
        {
            AdaptationField.Write(_packet.Slice(TsPacketHeader.Length, adaptationLength), randomAccess, pcrBase);
        }

        _position = TsPacketHeader.Length + adaptationLength;
        Packets++;
    }
}
