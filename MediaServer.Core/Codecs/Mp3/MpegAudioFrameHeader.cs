namespace MediaServer.Core.Codecs.Mp3;

/// <summary>
/// The 4-byte MPEG audio frame header (ISO/IEC 11172-3 §2.4.1.3, ISO/IEC 13818-3, and the unofficial
/// MPEG 2.5 extension), read for the version (MPEG-1 → TS stream type 0x03, MPEG-2/2.5 → 0x04) and sample rate.
/// </summary>
/// <remarks>
/// <code>
/// u11 sync (all ones)  u2 version (00 2.5, 10 2, 11 1)  u2 layer (01 III, 10 II, 11 I)  u1 protection_bit
/// u4 bitrate_index  u2 sampling_frequency  u1 padding  u1 private  u2 mode (11 = mono) ...
/// </code>
/// </remarks>
public readonly record struct MpegAudioFrameHeader(int Version, int Layer, int SampleRate, int Channels)
{
    /// <summary>Version as 1, 2, or 25 (MPEG 2.5).</summary>
    public bool IsMpeg1 => Version == 1;

    /// <summary>Parses the header at the start of <paramref name="data"/>.</summary>
    /// <exception cref="CodecException">Truncated, no sync, or reserved version/layer/rate.</exception>
    public static MpegAudioFrameHeader Parse(ReadOnlySpan<byte> data)
    {
        if (data.Length < 4)
        {
            CodecThrow.Throw(CodecError.Truncated, "MPEG audio header shorter than 4 bytes.");
        }

        if (data[0] != 0xFF || (data[1] & 0xE0) != 0xE0)
        {
            CodecThrow.Throw(CodecError.InvalidValue, "MPEG audio frame sync missing.");
        }

        var versionBits = (data[1] >> 3) & 3;
        var layerBits = (data[1] >> 1) & 3;
        var rateIndex = (data[2] >> 2) & 3;
        if (versionBits == 1 || layerBits == 0 || rateIndex == 3)
        {
            CodecThrow.Throw(CodecError.InvalidValue, "MPEG audio header has a reserved version, layer or rate.");
        }

        var version = versionBits switch { 3 => 1, 2 => 2, _ => 25 };
        var baseRate = rateIndex switch { 0 => 44100, 1 => 48000, _ => 32000 };
        var rate = version switch { 1 => baseRate, 2 => baseRate / 2, _ => baseRate / 4 };
        var channels = (data[3] >> 6) == 3 ? 1 : 2;
        return new MpegAudioFrameHeader(version, 4 - layerBits, rate, channels);
    }
}
