using System.IO.Pipelines;
using MediaServer.Rtmp.Chunking;
using MediaServer.Rtmp.Messages;

namespace MediaServer.Rtmp.Session;

/// <summary>
/// The single write path of one RTMP connection: chunking state and the pipe writer behind one async lock,
/// because the read loop (acks, command replies) and a play loop (media) both write.
/// </summary>
internal sealed class RtmpOutput : IDisposable
{
    /// <summary>Chunk stream for connection-level commands (connect/_result), as ffmpeg and SRS use.</summary>
    public const int CommandChunkStream = 3;

    /// <summary>Chunk stream for stream-level status and data (onStatus, onMetaData).</summary>
    public const int StreamChunkStream = 5;

    public const int VideoChunkStream = 6;
    public const int AudioChunkStream = 7;

    private readonly PipeWriter _writer;
    private readonly ChunkStreamWriter _chunks = new();
    private readonly SemaphoreSlim _lock = new(1, 1);

    public RtmpOutput(PipeWriter writer)
    {
        _writer = writer;
    }

    public int ChunkSize => _chunks.ChunkSize;

    /// <summary>See <see cref="ChunkStreamWriter.MaxMessageHeaderFormat"/>; set before writing messages.</summary>
    public byte MaxMessageHeaderFormat
    {
        get => _chunks.MaxMessageHeaderFormat;
        set => _chunks.MaxMessageHeaderFormat = value;
    }

    /// <remarks>
    /// Media goes through here once per frame: when the lock is free and the flush completes at once (the
    /// usual case), nothing is allocated — no async state machine, no Task from <see cref="SemaphoreSlim.WaitAsync()"/>.
    /// </remarks>
    public ValueTask SendAsync(int chunkStreamId, RtmpMessageType type, uint timestamp, uint messageStreamId, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        if (!_lock.Wait(0, CancellationToken.None))
        {
            return SendContendedAsync(chunkStreamId, type, timestamp, messageStreamId, payload, cancellationToken);
        }

        ValueTask<FlushResult> flush;
        try
        {
            _chunks.Write(_writer, chunkStreamId, type, timestamp, messageStreamId, payload.Span);
            flush = _writer.FlushAsync(cancellationToken);
            if (flush.IsCompletedSuccessfully)
            {
                _ = flush.Result;
                _lock.Release();
                return default;
            }
        }
        catch
        {
            _lock.Release();
            throw;
        }

        return ReleaseAfterFlushAsync(flush);
    }

    private async ValueTask ReleaseAfterFlushAsync(ValueTask<FlushResult> flush)
    {
        try
        {
            await flush.ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }
    }

    private async ValueTask SendContendedAsync(int chunkStreamId, RtmpMessageType type, uint timestamp, uint messageStreamId, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _chunks.Write(_writer, chunkStreamId, type, timestamp, messageStreamId, payload.Span);
            await _writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }
    }

    public ValueTask SendControlAsync(RtmpMessageType type, byte[] payload, CancellationToken cancellationToken) =>
        SendAsync(ProtocolControl.ChunkStreamId, type, 0, 0, payload, cancellationToken);

    public ValueTask SendUserControlAsync(UserControlEvent controlEvent, CancellationToken cancellationToken) =>
        SendControlAsync(RtmpMessageType.UserControl, controlEvent.ToPayload(), cancellationToken);

    public ValueTask SendCommandAsync(int chunkStreamId, uint messageStreamId, byte[] payload, CancellationToken cancellationToken) =>
        SendAsync(chunkStreamId, RtmpMessageType.CommandAmf0, 0, messageStreamId, payload, cancellationToken);

    /// <summary>Announces a new outgoing chunk size and applies it to the chunks that follow.</summary>
    public async ValueTask SetChunkSizeAsync(int chunkSize, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _chunks.Write(_writer, ProtocolControl.ChunkStreamId, RtmpMessageType.SetChunkSize, 0, 0, ProtocolControl.SetChunkSize(chunkSize));
            _chunks.ChunkSize = chunkSize;
            await _writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Writes raw bytes (handshake) and flushes.</summary>
    public async ValueTask SendRawAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _writer.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }
    }

    public void Dispose() => _lock.Dispose();
}
