using System.Buffers;
using System.Collections.Concurrent;

namespace MediaServer.Tests.Rtmp.Infrastructure;

/// <summary>
/// A memory pool that hands the same block owners out again, so allocation tests measure our code and not
/// the wrapper object <see cref="MemoryPool{T}.Shared"/> allocates per rent.
/// </summary>
internal sealed class ReusingMemoryPool : MemoryPool<byte>
{
    private const int BlockSize = 4096;
    private readonly ConcurrentBag<Block> _free = [];

    public override int MaxBufferSize => BlockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        return _free.TryTake(out var block) ? block : new Block(this);
    }

    protected override void Dispose(bool disposing)
    {
    }

    private sealed class Block(ReusingMemoryPool pool) : IMemoryOwner<byte>
    {
        private readonly byte[] _array = new byte[BlockSize];

        public Memory<byte> Memory => _array;

        public void Dispose() => pool._free.Add(this);
    }
}
