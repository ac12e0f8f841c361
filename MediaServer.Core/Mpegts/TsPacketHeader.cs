namespace MediaServer.Core.Mpegts;

/// <summary>adaptation_field_control (ISO/IEC 13818-1 Table 2-5).</summary>
public enum AdaptationFieldControl : byte
{
    Reserved = 0,
    PayloadOnly = 1,
    AdaptationOnly = 2,
    AdaptationAndPayload = 3,
}

/// <summary>
/// The 4-byte header of a 188-byte transport stream packet (ISO/IEC 13818-1 §2.4.3.2).
/// </summary>
/// <remarks>
/// <code>
/// u8  sync_byte 0x47
/// u1 transport_error_indicator  u1 payload_unit_start_indicator  u1 transport_priority  u13 PID
/// u2 transport_scrambling_control  u2 adaptation_field_control  u4 continuity_counter
/// </code>
/// The continuity counter increments (mod 16) per PID on every packet that carries payload.
/// </remarks>
public readonly record struct TsPacketHeader(
    ushort Pid,
    bool PayloadUnitStart,
    AdaptationFieldControl AdaptationFieldControl,
    byte ContinuityCounter,
    bool TransportError = false,
    bool TransportPriority = false,
    byte ScramblingControl = 0)
{
    public const byte SyncByte = 0x47;
    public const int PacketLength = 188;
    public const int Length = 4;

    /// <summary>Largest PID (13 bits); 0x1FFF is the null packet PID.</summary>
    public const ushort MaxPid = 0x1FFF;

    public bool HasPayload => AdaptationFieldControl is AdaptationFieldControl.PayloadOnly or AdaptationFieldControl.AdaptationAndPayload;

    public bool HasAdaptationField => AdaptationFieldControl is AdaptationFieldControl.AdaptationOnly or AdaptationFieldControl.AdaptationAndPayload;

    /// <summary>Writes the 4 bytes.</summary>
    public void Write(Span<byte> destination)
    {
        destination[0] = SyncByte;
        destination[1] = (byte)((TransportError ? 0x80 : 0) | (PayloadUnitStart ? 0x40 : 0) | (TransportPriority ? 0x20 : 0) | ((Pid >> 8) & 0x1F));
        destination[2] = (byte)Pid;
        destination[3] = (byte)(((ScramblingControl & 3) << 6) | ((byte)AdaptationFieldControl << 4) | (ContinuityCounter & 0x0F));
    }

    /// <summary>Parses the 4 bytes.</summary>
    /// <exception cref="TsFormatException">Truncated or no sync byte.</exception>
    public static TsPacketHeader Parse(ReadOnlySpan<byte> data)
    {
        if (data.Length < Length)
        {
            TsFormatException.Throw(TsFormatError.Truncated, "TS packet header shorter than 4 bytes.");
        }

        if (data[0] != SyncByte)
        {
            TsFormatException.Throw(TsFormatError.InvalidSyncByte, "TS packet does not start with 0x47.");
        }

        return new TsPacketHeader(
            (ushort)(((data[1] & 0x1F) << 8) | data[2]),
            (data[1] & 0x40) != 0,
            (AdaptationFieldControl)((data[3] >> 4) & 3),
            (byte)(data[3] & 0x0F),
            (data[1] & 0x80) != 0,
            (data[1] & 0x20) != 0,
            (byte)(data[3] >> 6));
    }
}
