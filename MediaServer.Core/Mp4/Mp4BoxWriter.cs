using System.Buffers;
using System.Buffers.Binary;
using MediaServer.Core.Buffers;

namespace MediaServer.Core.Mp4;

/// <summary>
/// Writes ISO BMFF boxes (ISO/IEC 14496-12 §4.2) big-endian into a growable scratch buffer, so a box's size can be
/// patched once its content is written; the finished bytes are then copied to an <see cref="IBufferWriter{T}"/>.
/// </summary>
/// <remarks>
/// <code>
/// Box:      u32 size (header included)  u32 type
/// FullBox:  Box  u8 version  u24 flags
/// </code>
/// Only the 32-bit size form is written (no <c>largesize</c>): our init segments are a few hundred bytes and a
/// fragment's <c>moof</c> a few kilobytes. The buffer comes from <see cref="MediaArrayPool"/> and is kept across
/// <see cref="Reset"/>, so a muxer that reuses one writer allocates nothing once it has grown to its working size.
/// Not thread-safe.
/// </remarks>
internal sealed class Mp4BoxWriter : IDisposable
{
    private byte[] _buffer;
    private int _length;

    public Mp4BoxWriter(int initialCapacity = 1024)
    {
        _buffer = MediaArrayPool.Rent(initialCapacity);
    }

    /// <summary>Bytes written since the last <see cref="Reset"/>.</summary>
    public int Length => _length;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);

    public void Reset() => _length = 0;

    /// <summary>Starts a box; returns its start, for <see cref="EndBox"/>.</summary>
    public int BeginBox(Mp4BoxType type)
    {
        var start = _length;
        WriteUInt32(0); // size, patched by EndBox
        WriteUInt32((uint)type);
        return start;
    }

    /// <summary>Starts a full box (version and 24-bit flags after the header); returns its start, for <see cref="EndBox"/>.</summary>
    public int BeginFullBox(Mp4BoxType type, byte version, uint flags)
    {
        var start = BeginBox(type);
        WriteUInt32(((uint)version << 24) | (flags & 0x00FF_FFFF));
        return start;
    }

    /// <summary>Writes the size of the box started at <paramref name="start"/>.</summary>
    public void EndBox(int start) => PatchUInt32(start, (uint)(_length - start));

    public void WriteUInt8(byte value) => Grow(1)[0] = value;

    public void WriteUInt16(ushort value) => BinaryPrimitives.WriteUInt16BigEndian(Grow(2), value);

    public void WriteUInt32(uint value) => BinaryPrimitives.WriteUInt32BigEndian(Grow(4), value);

    public void WriteInt32(int value) => BinaryPrimitives.WriteInt32BigEndian(Grow(4), value);

    public void WriteUInt64(ulong value) => BinaryPrimitives.WriteUInt64BigEndian(Grow(8), value);

    public void WriteFourCc(Mp4BoxType value) => WriteUInt32((uint)value);

    public void WriteBytes(ReadOnlySpan<byte> value) => value.CopyTo(Grow(value.Length));

    public void WriteZeros(int count) => Grow(count).Clear();

    /// <summary>Reserves a 32-bit field to be filled in by <see cref="PatchUInt32"/>; returns its position.</summary>
    public int ReserveUInt32()
    {
        var position = _length;
        WriteUInt32(0);
        return position;
    }

    public void PatchUInt32(int position, uint value) => BinaryPrimitives.WriteUInt32BigEndian(_buffer.AsSpan(position, 4), value);

    /// <summary>Copies what was written to <paramref name="output"/>.</summary>
    public void CopyTo(IBufferWriter<byte> output)
    {
        var span = output.GetSpan(_length);
        WrittenSpan.CopyTo(span);
        output.Advance(_length);
    }

    public void Dispose()
    {
        MediaArrayPool.Return(_buffer);
        _buffer = [];
        _length = 0;
    }

    private Span<byte> Grow(int count)
    {
        if (_buffer.Length - _length < count)
        {
            var larger = MediaArrayPool.Rent(checked(Math.Max(_buffer.Length * 2, _length + count)));
            WrittenSpan.CopyTo(larger);
            MediaArrayPool.Return(_buffer);
            _buffer = larger;
        }

        var span = _buffer.AsSpan(_length, count);
        _length += count;
        return span;
    }
}
