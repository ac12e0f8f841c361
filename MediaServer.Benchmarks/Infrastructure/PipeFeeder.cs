using System.Buffers;
using System.IO.Pipelines;

namespace MediaServer.Benchmarks.Infrastructure;

/// <summary>
/// A real <see cref="Pipe"/> driven synchronously, as a socket would fill it: the input is written in 64 KiB
/// pieces, each flushed and read back before the next. Schedulers are inline and the pause threshold (1 MiB,
/// Kestrel's default for request input) is never reached, so every call completes synchronously.
/// </summary>
public sealed class PipeFeeder
{
    /// <summary>Size of each write, about what one socket receive of a busy connection hands over.</summary>
    public const int WriteSize = 64 * 1024;

    private readonly Pipe _pipe = new(new PipeOptions(
        pool: MemoryPool<byte>.Shared,
        readerScheduler: PipeScheduler.Inline,
        writerScheduler: PipeScheduler.Inline,
        pauseWriterThreshold: 1024 * 1024,
        resumeWriterThreshold: 512 * 1024,
        useSynchronizationContext: false));

    /// <summary>Writes one piece and flushes it (must complete synchronously).</summary>
    public void Write(ReadOnlySpan<byte> piece)
    {
        _pipe.Writer.Write(piece);
        var flush = _pipe.Writer.FlushAsync();
        if (!flush.IsCompletedSuccessfully)
        {
            throw new InvalidOperationException("The pipe paused the writer: the reader falls behind by more than the pause threshold.");
        }
    }

    /// <summary>What the pipe holds (everything flushed and not consumed).</summary>
    public ReadOnlySequence<byte> Read()
    {
        if (!_pipe.Reader.TryRead(out var result))
        {
            throw new InvalidOperationException("Nothing to read after a flush.");
        }

        return result.Buffer;
    }

    public void AdvanceTo(SequencePosition consumed, SequencePosition examined) => _pipe.Reader.AdvanceTo(consumed, examined);

    /// <summary>Completes both ends and resets the pipe for the next operation.</summary>
    public void Reset()
    {
        _pipe.Writer.Complete();
        _pipe.Reader.Complete();
        _pipe.Reset();
    }

    /// <summary>The baseline: <paramref name="input"/> through the pipe (write, read, AdvanceTo), nothing parsed.</summary>
    /// <returns>Bytes read back.</returns>
    public long Copy(ReadOnlySpan<byte> input)
    {
        long total = 0;
        for (var offset = 0; offset < input.Length; offset += WriteSize)
        {
            Write(input.Slice(offset, Math.Min(WriteSize, input.Length - offset)));
            var buffer = Read();
            total += buffer.Length;
            AdvanceTo(buffer.End, buffer.End);
        }

        Reset();
        return total;
    }
}
