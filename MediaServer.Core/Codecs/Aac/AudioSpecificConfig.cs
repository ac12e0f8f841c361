using System.Buffers;

namespace MediaServer.Core.Codecs.Aac;

/// <summary>
/// The head of an AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1): enough to describe the stream and to build
/// ADTS headers. The object-type-specific part (GASpecificConfig...) that follows is not read.
/// </summary>
/// <remarks>
/// <code>
/// u5 audioObjectType            [== 31: u6 audioObjectTypeExt, type = 32 + ext]
/// u4 samplingFrequencyIndex     [== 0xF: u24 samplingFrequency]
/// u4 channelConfiguration
/// if audioObjectType is 5 (SBR) or 29 (PS)   — explicit hierarchical HE-AAC signalling:
///     u4 extensionSamplingFrequencyIndex [== 0xF: u24 extensionSamplingFrequency]
///     u5 audioObjectType (the core, usually 2 = AAC LC) [== 31: u6 ext]
/// ...object-type-specific config (not read; written as zero bits up to the byte boundary)
/// </code>
/// Implicit SBR/PS signalling (a sync extension after the GASpecificConfig) is tolerated by not reading it.
/// </remarks>
public readonly record struct AudioSpecificConfig
{
    /// <summary>Sampling frequencies by index (Table 1.18); 13 and 14 are reserved, 15 means explicit.</summary>
    private static readonly int[] s_frequencies = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

    /// <summary>Highest explicit frequency we accept: nothing real is above 96 kHz; 24 bits would allow 16 MHz.</summary>
    private const int MaxSamplingFrequency = 192000;

    /// <summary>The object type as signalled first (5 = SBR, 29 = PS for explicit HE-AAC).</summary>
    public int ObjectType { get; init; }

    /// <summary>Index into the frequency table, or 15 when <see cref="SamplingFrequency"/> is explicit.</summary>
    public int SamplingFrequencyIndex { get; init; }

    /// <summary>The (core) sampling frequency in Hz.</summary>
    public int SamplingFrequency { get; init; }

    /// <summary>channelConfiguration (0 = defined in a program config element).</summary>
    public int ChannelConfiguration { get; init; }

    /// <summary>For explicit SBR/PS: the core object type (e.g. 2 = AAC LC); otherwise equal to <see cref="ObjectType"/>.</summary>
    public int CoreObjectType { get; init; }

    /// <summary>For explicit SBR/PS: the output (extension) sampling frequency index; otherwise -1.</summary>
    public int ExtensionSamplingFrequencyIndex { get; init; }

    /// <summary>For explicit SBR/PS: the output (extension) sampling frequency in Hz; otherwise 0.</summary>
    public int ExtensionSamplingFrequency { get; init; }

    /// <summary>True for explicit HE-AAC (v1 SBR or v2 PS) signalling.</summary>
    public bool HasSbr => ObjectType is 5 or 29;

    /// <summary>Frequency of an index, or 0 for reserved/explicit indexes.</summary>
    public static int GetFrequency(int index) => (uint)index < (uint)s_frequencies.Length ? s_frequencies[index] : 0;

    /// <summary>Index of a table frequency, or -1.</summary>
    public static int GetFrequencyIndex(int frequency) => Array.IndexOf(s_frequencies, frequency);

    /// <summary>Parses the head of an AudioSpecificConfig.</summary>
    /// <exception cref="CodecException">Truncated, object type 0, or a reserved sampling index.</exception>
    public static AudioSpecificConfig Parse(ReadOnlySpan<byte> data)
    {
        var reader = new RbspBitReaderPlain(data);
        var objectType = ReadObjectType(ref reader);
        ReadFrequency(ref reader, out var index, out var frequency);
        var channels = (int)reader.Read(4);
        var core = objectType;
        var extIndex = -1;
        var extFrequency = 0;
        if (objectType is 5 or 29)
        {
            ReadFrequency(ref reader, out extIndex, out extFrequency);
            core = ReadObjectType(ref reader);
            if (core == 22)
            {
                reader.Read(4); // extensionChannelConfiguration (ER BSAC only)
            }
        }

        return new AudioSpecificConfig
        {
            ObjectType = objectType,
            SamplingFrequencyIndex = index,
            SamplingFrequency = frequency,
            ChannelConfiguration = channels,
            CoreObjectType = core,
            ExtensionSamplingFrequencyIndex = extIndex,
            ExtensionSamplingFrequency = extFrequency,
        };
    }

    /// <summary>Writes the fields above, padded with zero bits to a byte boundary (a zero GASpecificConfig for AAC LC).</summary>
    public void Write(IBufferWriter<byte> output)
    {
        // At most 11 + 28 + 4 + 28 + 11 + 4 = 86 bits.
        Span<byte> scratch = stackalloc byte[16];
        scratch.Clear();
        var writer = new BitWriter(scratch);
        WriteObjectType(ref writer, ObjectType);
        WriteFrequency(ref writer, SamplingFrequencyIndex, SamplingFrequency);
        writer.Write((uint)ChannelConfiguration, 4);
        if (HasSbr)
        {
            WriteFrequency(ref writer, ExtensionSamplingFrequencyIndex, ExtensionSamplingFrequency);
            WriteObjectType(ref writer, CoreObjectType);
            if (CoreObjectType == 22)
            {
                writer.Write(0, 4);
            }
        }

        var length = (writer.BitCount + 7) / 8;
        scratch[..length].CopyTo(output.GetSpan(length));
        output.Advance(length);
    }

    private static void WriteObjectType(ref BitWriter writer, int type)
    {
        if (type >= 31)
        {
            writer.Write(31, 5);
            writer.Write((uint)(type - 32), 6);
        }
        else
        {
            writer.Write((uint)type, 5);
        }
    }

    private static void WriteFrequency(ref BitWriter writer, int index, int frequency)
    {
        writer.Write((uint)index, 4);
        if (index == 0xF)
        {
            writer.Write((uint)frequency, 24);
        }
    }

    private static int ReadObjectType(ref RbspBitReaderPlain reader)
    {
        var type = (int)reader.Read(5);
        if (type == 31)
        {
            type = 32 + (int)reader.Read(6);
        }

        if (type == 0)
        {
            CodecThrow.Throw(CodecError.InvalidValue, "AAC audio object type 0 (null) is not allowed.");
        }

        return type;
    }

    private static void ReadFrequency(ref RbspBitReaderPlain reader, out int index, out int frequency)
    {
        index = (int)reader.Read(4);
        if (index == 0xF)
        {
            frequency = (int)reader.Read(24);
            if (frequency is 0 or > MaxSamplingFrequency)
            {
                CodecThrow.Throw(CodecError.InvalidValue, "AAC explicit sampling frequency out of range.");
            }
        }
        else
        {
            frequency = GetFrequency(index);
            if (frequency == 0)
            {
                CodecThrow.Throw(CodecError.InvalidValue, "AAC sampling frequency index is reserved.");
            }
        }
    }

    /// <summary>MSB-first bit writer into a zeroed span.</summary>
    private ref struct BitWriter(Span<byte> data)
    {
        private readonly Span<byte> _data = data;

        public int BitCount { get; private set; }

        public void Write(uint value, int count)
        {
            for (var i = count - 1; i >= 0; i--, BitCount++)
            {
                if (((value >> i) & 1) != 0)
                {
                    _data[BitCount >> 3] |= (byte)(0x80 >> (BitCount & 7));
                }
            }
        }
    }

    /// <summary>Plain MSB-first bit reader (no emulation prevention: AAC config is not a NAL unit).</summary>
    private ref struct RbspBitReaderPlain(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _bit;

        public uint Read(int count)
        {
            if (_bit + count > _data.Length * 8)
            {
                CodecThrow.Throw(CodecError.Truncated, "AudioSpecificConfig ends inside a field.");
            }

            uint value = 0;
            for (var i = 0; i < count; i++, _bit++)
            {
                value = (value << 1) | (uint)((_data[_bit >> 3] >> (7 - (_bit & 7))) & 1);
            }

            return value;
        }
    }
}
