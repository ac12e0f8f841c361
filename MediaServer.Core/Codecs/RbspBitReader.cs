namespace MediaServer.Core.Codecs;

/// <summary>
/// Big-endian bit reader over a NAL unit payload (after the NAL header) that removes emulation prevention
/// bytes on the fly (H.264 §7.4.1 / H.265 §7.4.2: in <c>00 00 03</c> the <c>03</c> is dropped), with
/// exp-Golomb codes ue(v)/se(v) (H.264 §9.1).
/// </summary>
internal ref struct RbspBitReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _index;      // next byte of _data to load
    private int _zeros;      // consecutive zero bytes loaded so far (emulation prevention)
    private uint _current;   // current byte
    private int _bitsLeft;   // unread bits in _current

    public RbspBitReader(ReadOnlySpan<byte> data)
    {
        _data = data;
    }

    public uint ReadBit()
    {
        if (_bitsLeft == 0)
        {
            LoadByte();
        }

        _bitsLeft--;
        return (_current >> _bitsLeft) & 1;
    }

    public uint ReadBits(int count)
    {
        uint value = 0;
        for (var i = 0; i < count; i++)
        {
            value = (value << 1) | ReadBit();
        }

        return value;
    }

    public void Skip(int count)
    {
        for (var i = 0; i < count; i++)
        {
            ReadBit();
        }
    }

    public bool ReadFlag() => ReadBit() != 0;

    /// <summary>ue(v): unsigned exp-Golomb.</summary>
    public uint ReadUe()
    {
        var leadingZeros = 0;
        while (ReadBit() == 0)
        {
            // 32 leading zeros would encode a value above uint.MaxValue: the stream is broken.
            if (++leadingZeros > 31)
            {
                CodecThrow.Throw(CodecError.InvalidExpGolomb, "Exp-Golomb code longer than 32 bits.");
            }
        }

        return leadingZeros == 0 ? 0 : (uint)((1UL << leadingZeros) - 1 + ReadBits(leadingZeros));
    }

    /// <summary>se(v): signed exp-Golomb (k ↦ (−1)^(k+1) ⌈k/2⌉).</summary>
    public int ReadSe()
    {
        var k = ReadUe();
        var magnitude = (int)((k + 1) / 2);
        return (k & 1) != 0 ? magnitude : -magnitude;
    }

    private void LoadByte()
    {
        if (_index >= _data.Length)
        {
            CodecThrow.Throw(CodecError.Truncated, "RBSP ended inside a syntax element.");
        }

        var b = _data[_index++];
        if (_zeros >= 2 && b == 0x03)
        {
            // Emulation prevention byte: drop it and take the next one.
            _zeros = 0;
            if (_index >= _data.Length)
            {
                CodecThrow.Throw(CodecError.Truncated, "RBSP ended after an emulation prevention byte.");
            }

            b = _data[_index++];
        }

        _zeros = b == 0 ? _zeros + 1 : 0;
        _current = b;
        _bitsLeft = 8;
    }
}
