using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections;

namespace MediaServer.Host.Connections;

/// <summary>
/// Kestrel's buffers, in blocks of <see cref="BlockSize"/> instead of its default 4 KiB. The socket transport reads
/// into the free part of one block per receive call, so with 4 KiB blocks a 3 Mbit/s publisher costs about 100
/// receive calls a second, each with an extra zero-byte receive; with 64 KiB blocks a whole video frame, or a
/// burst of them, arrives in one call. Blocks are pinned arrays (never moved by the GC); at most
/// <see cref="MaxFreeBlocks"/> free ones are kept per pool, the rest are left to the GC.
/// </summary>
internal sealed class ReceiveBlockPoolFactory : IMemoryPoolFactory<byte>
{
    public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => new ReceiveBlockPool();
}

/// <inheritdoc cref="ReceiveBlockPoolFactory"/>
internal sealed class ReceiveBlockPool : MemoryPool<byte>
{
    public const int BlockSize = 64 * 1024;
    public const int MaxFreeBlocks = 128;

    private readonly ConcurrentQueue<Block> _free = new();
    private int _freeCount;
    private int _disposed;

    public override int MaxBufferSize => BlockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        if (_free.TryDequeue(out var block))
        {
            Interlocked.Decrement(ref _freeCount);
            block.Rented();
            return block;
        }

        return new Block(this);
    }

    private void Return(Block block)
    {
        if (Volatile.Read(ref _disposed) == 0 && Interlocked.Increment(ref _freeCount) <= MaxFreeBlocks)
        {
            _free.Enqueue(block);
            return;
        }

        Interlocked.Decrement(ref _freeCount);
    }

    protected override void Dispose(bool disposing)
    {
        Volatile.Write(ref _disposed, 1);
        _free.Clear();
    }

    private sealed class Block(ReceiveBlockPool pool) : IMemoryOwner<byte>
    {
        private readonly Memory<byte> _memory = MemoryMarshal.CreateFromPinnedArray(GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true), 0, BlockSize);
        private int _returned;

        public Memory<byte> Memory => _memory;

        public void Rented() => Volatile.Write(ref _returned, 0);

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _returned, 1) == 0)
            {
                pool.Return(this);
            }
        }
    }
}
