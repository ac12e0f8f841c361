using System.Buffers.Binary;
using System.Text;

namespace MediaServer.Tests.Mp4;

/// <summary>One ISO BMFF box as read back by <see cref="Mp4TestReader"/>: type, absolute offset, size, payload.</summary>
internal sealed record Mp4TestBox(string Type, int Offset, int Size, byte[] Payload, IReadOnlyList<Mp4TestBox> Children)
{
    public Mp4TestBox Child(string type) => Children.Single(c => c.Type == type);

    public IEnumerable<Mp4TestBox> All(string type) => Children.Where(c => c.Type == type);

    public uint U32(int offset) => BinaryPrimitives.ReadUInt32BigEndian(Payload.AsSpan(offset));

    public int I32(int offset) => BinaryPrimitives.ReadInt32BigEndian(Payload.AsSpan(offset));

    public ulong U64(int offset) => BinaryPrimitives.ReadUInt64BigEndian(Payload.AsSpan(offset));
}

/// <summary>
/// A test-only ISO BMFF reader, independent of the muxer: walks 32-bit-size boxes and descends into the container
/// boxes a fragmented MP4 of ours has, checking that every size fits its parent exactly.
/// </summary>
internal static class Mp4TestReader
{
    private static readonly HashSet<string> s_containers = ["moov", "trak", "mdia", "minf", "dinf", "stbl", "mvex", "moof", "traf"];

    public static List<Mp4TestBox> Read(ReadOnlySpan<byte> data, int baseOffset = 0)
    {
        var boxes = new List<Mp4TestBox>();
        var offset = 0;
        while (offset < data.Length)
        {
            Assert.That(data.Length - offset, Is.GreaterThanOrEqualTo(8), $"box header truncated at {baseOffset + offset}");
            var size = (int)BinaryPrimitives.ReadUInt32BigEndian(data[offset..]);
            var type = Encoding.ASCII.GetString(data.Slice(offset + 4, 4));
            Assert.That(size, Is.InRange(8, data.Length - offset), $"{type} at {baseOffset + offset} overruns its parent");
            var payload = data.Slice(offset + 8, size - 8);
            var children = s_containers.Contains(type) ? Read(payload, baseOffset + offset + 8) : [];
            boxes.Add(new Mp4TestBox(type, baseOffset + offset, size, payload.ToArray(), children));
            offset += size;
        }

        return boxes;
    }
}
