using System.Buffers;
using System.Buffers.Binary;
using MediaServer.Core.Buffers;
using MediaServer.Rtmp.Messages;

namespace MediaServer.Rtmp.Chunking;

/// <summary>
/// Reassembles RTMP messages from chunks (RTMP 1.0 spec §5.3): one instance per connection, holding the
/// per-chunk-stream header state. Applies Set Chunk Size and Abort at once (§5.4.1, §5.4.2), since they
/// change how the very next chunk is framed; the messages are still returned to the caller.
/// </summary>
public sealed class ChunkStreamReader : IDisposable
{
    /// <summary>Default incoming chunk size until the peer sends Set Chunk Size (§5.4.1).</summary>
    public const int DefaultChunkSize = 128;

    /// <summary>
    /// Largest incoming chunk size we accept. The spec allows up to 0x7FFFFFFF, but a chunk is never useful
    /// beyond the largest message (16 MiB, the 24-bit length field); encoders use 4096-65536.
    /// </summary>
    public const int MaxIncomingChunkSize = 16 * 1024 * 1024;

    /// <summary>Largest message the 24-bit length field can carry.</summary>
    public const int MaxWireMessageLength = 0xFFFFFF;

    /// <summary>
    /// Chunk streams per connection. Encoders use fewer than ten (ffmpeg 2-8, OBS 2-7), but ids are free in
    /// 2..65599 and nginx-rtmp's cap of 32 broke real clients (#241). A state costs ~64 bytes; partial message
    /// memory is bounded separately by <see cref="MaxPendingBytes"/>, so 1024 is generous and cheap.
    /// </summary>
    public const int MaxChunkStreams = 1024;

    /// <summary>
    /// Bytes reserved for messages in progress across all chunk streams: interleaving audio and video needs two;
    /// 64 MiB allows several maximum-size messages without letting a peer pin unbounded memory.
    /// </summary>
    public const long MaxPendingBytes = 64L * 1024 * 1024;

    /// <summary>
    /// A message's buffer starts as large as its first chunk and doubles (up to the declared length) as its chunks
    /// arrive, so memory grows only with bytes received: a peer that declares 16 MiB and sends a few bytes holds a few
    /// bytes. Once <see cref="AllowGenerousReservations"/> is set (an accepted publisher), the first
    /// <see cref="GenerousMessages"/> messages in progress (an encoder interleaves two or three) start at up to this
    /// size instead, so most video frames fit at once without being copied while they grow.
    /// </summary>
    public const int InitialReservation = 64 * 1024;

    /// <summary>See <see cref="InitialReservation"/>.</summary>
    public const int GenerousMessages = 8;

    private readonly Dictionary<int, ChunkStreamState> _streams = [];
    private int _chunkStreamLimit = MaxChunkStreams;
    private long _pendingBytesLimit = MaxPendingBytes;

    /// <summary>Bytes reserved now for messages in progress (tests, diagnostics).</summary>
    internal long ReservedBytes => _pendingBytes;

    private readonly int _maxMessageLength;
    private long _pendingBytes;
    private int _inProgress; // messages with a partial buffer

    public ChunkStreamReader(int maxMessageLength = MaxWireMessageLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxMessageLength, 1);
        _maxMessageLength = Math.Min(maxMessageLength, MaxWireMessageLength);
    }

    /// <summary>Current incoming chunk size.</summary>
    public int ChunkSize { get; private set; } = DefaultChunkSize;

    /// <summary>See <see cref="InitialReservation"/>. Off until the session trusts the peer.</summary>
    public bool AllowGenerousReservations { get; set; }

    /// <summary>
    /// Narrows the chunk-stream and reassembly budgets below <see cref="MaxChunkStreams"/> and
    /// <see cref="MaxPendingBytes"/>: a session does so until the peer's publish is accepted (a player keeps them), when it calls
    /// <see cref="LiftLimits"/>. A peer that exceeds them gets <see cref="RtmpProtocolError.TooManyChunkStreams"/> or
    /// <see cref="RtmpProtocolError.TooMuchPendingData"/>.
    /// </summary>
    public void Restrict(int chunkStreams, long pendingBytes)
    {
        _chunkStreamLimit = Math.Clamp(chunkStreams, 1, MaxChunkStreams);
        _pendingBytesLimit = Math.Clamp(pendingBytes, 1, MaxPendingBytes);
    }

    /// <summary>Back to the full budgets (<see cref="MaxChunkStreams"/>, <see cref="MaxPendingBytes"/>) and generous reservations.</summary>
    public void LiftLimits()
    {
        _chunkStreamLimit = MaxChunkStreams;
        _pendingBytesLimit = MaxPendingBytes;
        AllowGenerousReservations = true;
    }

    /// <summary>
    /// Reads chunks until one message is complete. False = need more bytes (the reader is left at the start
    /// of the incomplete chunk). The caller owns the returned message's payload.
    /// </summary>
    /// <exception cref="RtmpProtocolException">A protocol violation; the connection must end.</exception>
    public bool TryRead(ref SequenceReader<byte> reader, out RtmpMessage message)
    {
        while (true)
        {
            var start = reader.Consumed;
            if (!TryReadChunk(ref reader, out var complete, out message))
            {
                reader.Rewind(reader.Consumed - start);
                return false;
            }

            if (complete)
            {
                return true;
            }
        }
    }

    private bool TryReadChunk(ref SequenceReader<byte> reader, out bool complete, out RtmpMessage message)
    {
        complete = false;
        message = default;
        if (!ChunkBasicHeader.TryRead(ref reader, out var basic))
        {
            return false;
        }

        _streams.TryGetValue(basic.ChunkStreamId, out var state);
        if (basic.Format != 0 && (state is null || !state.HasHeader))
        {
            RtmpProtocolException.Throw(RtmpProtocolError.NoPreviousHeader, $"Chunk stream {basic.ChunkStreamId} sent a fmt {basic.Format} chunk with no previous header.");
        }

        if (!ChunkMessageHeader.TryRead(ref reader, basic.Format, state?.Extended ?? false, out var header))
        {
            return false;
        }

        var inProgress = state?.Partial is not null;
        if (basic.Format != 3 && inProgress)
        {
            RtmpProtocolException.Throw(RtmpProtocolError.HeaderInsideMessage, $"Chunk stream {basic.ChunkStreamId} sent a new header in the middle of a message.");
        }

        // Resolve the message header this chunk belongs to (without touching state until the chunk is whole).
        uint timestamp, delta, streamId;
        int length;
        byte typeId;
        bool extended;
        switch (basic.Format)
        {
            case 0:
                timestamp = header.Timestamp;
                delta = header.Timestamp; // §5.3.1.2.4: a following fmt 3 repeats the fmt 0 timestamp as its delta.
                length = header.MessageLength;
                typeId = header.TypeId;
                streamId = header.MessageStreamId;
                extended = header.HasExtendedTimestamp;
                break;
            case 1:
                delta = header.Timestamp;
                timestamp = unchecked(state!.Timestamp + delta);
                length = header.MessageLength;
                typeId = header.TypeId;
                streamId = state.StreamId;
                extended = header.HasExtendedTimestamp;
                break;
            case 2:
                delta = header.Timestamp;
                timestamp = unchecked(state!.Timestamp + delta);
                length = state.Length;
                typeId = state.TypeId;
                streamId = state.StreamId;
                extended = header.HasExtendedTimestamp;
                break;
            default:
                delta = state!.Delta;
                timestamp = inProgress ? state.Timestamp : unchecked(state.Timestamp + delta);
                length = state.Length;
                typeId = state.TypeId;
                streamId = state.StreamId;
                extended = state.Extended;
                break;
        }

        if (!inProgress && length > _maxMessageLength)
        {
            RtmpProtocolException.Throw(RtmpProtocolError.MessageTooLarge, $"Message of {length} bytes exceeds the limit of {_maxMessageLength}.");
        }

        var received = inProgress ? state!.Received : 0;
        var count = Math.Min(ChunkSize, length - received);

        // The buffer this chunk will need, decided (and refused if over budget) before waiting for its bytes: a peer
        // that declares a large chunk and trickles it would otherwise hold the unread bytes in the transport.
        var grownTo = 0;
        if (!inProgress)
        {
            grownTo = Math.Max(count, AllowGenerousReservations && _inProgress < GenerousMessages ? Math.Min(length, InitialReservation) : 0);
            EnsureBudget(grownTo);
        }
        else if (received + count > state!.Partial!.Length)
        {
            // Grow as the data arrives: double, at least to what this chunk needs, at most to the declared length.
            grownTo = (int)Math.Min(length, Math.Max((long)state.Partial.Length * 2, received + count));
            EnsureBudget(grownTo - state.Partial.Length);
        }

        if (reader.Remaining < count)
        {
            return false;
        }

        // The chunk is whole: commit.
        if (state is null)
        {
            if (_streams.Count >= _chunkStreamLimit)
            {
                RtmpProtocolException.Throw(RtmpProtocolError.TooManyChunkStreams, $"More than {_chunkStreamLimit} chunk streams.");
            }

            state = new ChunkStreamState();
            _streams.Add(basic.ChunkStreamId, state);
        }

        state.HasHeader = true;
        state.Timestamp = timestamp;
        state.Delta = delta;
        state.Length = length;
        state.TypeId = typeId;
        state.StreamId = streamId;
        state.Extended = extended;

        if (!inProgress)
        {
            state.Partial = Reserve(grownTo);
            state.Received = 0;
            _inProgress++;
        }
        else if (grownTo > 0)
        {
            var grown = Reserve(grownTo);
            state.Partial!.Span[..state.Received].CopyTo(grown.Span);
            _pendingBytes -= state.Partial.Length;
            state.Partial.Release();
            state.Partial = grown;
        }

        reader.TryCopyTo(state.Partial!.Span.Slice(state.Received, count));
        reader.Advance(count);
        state.Received += count;
        if (state.Received < length)
        {
            return true;
        }

        var payload = state.Partial!;
        state.Partial = null;
        _pendingBytes -= payload.Length;
        _inProgress--;
        message = new RtmpMessage(basic.ChunkStreamId, (RtmpMessageType)typeId, timestamp, streamId, payload);
        complete = true;
        ApplyControl(message);
        return true;
    }

    private void EnsureBudget(long bytes)
    {
        if (_pendingBytes + bytes > _pendingBytesLimit)
        {
            RtmpProtocolException.Throw(RtmpProtocolError.TooMuchPendingData);
        }
    }

    private MediaBuffer Reserve(int bytes)
    {
        EnsureBudget(bytes);

        _pendingBytes += bytes;
        return MediaBuffer.Rent(bytes);
    }

    private void ApplyControl(in RtmpMessage message)
    {
        if (message.Type == RtmpMessageType.SetChunkSize)
        {
            try
            {
                ChunkSize = ParseSetChunkSize(message.Span);
            }
            catch (RtmpProtocolException)
            {
                message.Payload.Release(); // the caller never sees this message
                throw;
            }
        }
        else if (message.Type == RtmpMessageType.Abort)
        {
            if (message.Payload.Length < 4)
            {
                message.Payload.Release();
                RtmpProtocolException.Throw(RtmpProtocolError.InvalidControlMessage, "Abort message shorter than 4 bytes.");
            }

            var csid = (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(message.Span), int.MaxValue);
            if (_streams.TryGetValue(csid, out var aborted) && aborted.Partial is { } partial)
            {
                _pendingBytes -= partial.Length;
                _inProgress--;
                aborted.Partial = null;
                partial.Release();
            }
        }
    }

    /// <summary>Validates a Set Chunk Size payload (§5.4.1): 31-bit value, 1..<see cref="MaxIncomingChunkSize"/>.</summary>
    public static int ParseSetChunkSize(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 4)
        {
            RtmpProtocolException.Throw(RtmpProtocolError.InvalidControlMessage, "Set Chunk Size shorter than 4 bytes.");
        }

        var value = BinaryPrimitives.ReadUInt32BigEndian(payload);
        if (value == 0 || (value & 0x80000000) != 0)
        {
            RtmpProtocolException.Throw(RtmpProtocolError.InvalidChunkSize, $"Invalid chunk size {value}.");
        }

        if (value > MaxIncomingChunkSize)
        {
            RtmpProtocolException.Throw(RtmpProtocolError.ChunkSizeTooLarge, $"Chunk size {value} exceeds the limit of {MaxIncomingChunkSize}.");
        }

        return (int)value;
    }

    /// <summary>Releases any partial messages.</summary>
    public void Dispose()
    {
        foreach (var state in _streams.Values)
        {
            state.Partial?.Release();
            state.Partial = null;
        }

        _streams.Clear();
        _pendingBytes = 0;
        _inProgress = 0;
    }

    private sealed class ChunkStreamState
    {
        public bool HasHeader;
        public uint Timestamp;
        public uint Delta;
        public int Length;
        public byte TypeId;
        public uint StreamId;
        public bool Extended;
        public MediaBuffer? Partial;
        public int Received;
    }
}
