using System.Buffers;
using MediaServer.Rtmp.Messages;

namespace MediaServer.Rtmp.Chunking;

/// <summary>
/// Splits messages into chunks (RTMP 1.0 spec §5.3), compressing headers where the previous message on the
/// same chunk stream allows: fmt 1 (same stream), fmt 2 (same length and type), fmt 3 (same delta too).
/// One instance per connection; not thread-safe (the connection serialises writes).
/// </summary>
public sealed class ChunkStreamWriter
{
    private const int MaxHeaderSize = 3 + 11 + 4;

    private readonly Dictionary<int, OutState> _streams = [];
    private int _chunkSize = ChunkStreamReader.DefaultChunkSize;
    private byte _maxMessageHeaderFormat = 3;

    /// <summary>Outgoing chunk size; change it right after writing the Set Chunk Size message that announces it.</summary>
    public int ChunkSize
    {
        get => _chunkSize;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, ChunkStreamReader.MaxIncomingChunkSize);
            _chunkSize = value;
        }
    }

    /// <summary>
    /// The most compressed header a message's first chunk may use: 3 (default) compresses as far as the previous
    /// message allows; 1 writes fresh fmt 0/1 headers (timestamp delta, length and type on every message); 0 an
    /// absolute fmt 0 header on every message. Continuation chunks are always fmt 3. Encoders differ here, so
    /// tests use it to exercise the reader (e.g. an extended timestamp on every message and its continuations).
    /// </summary>
    public byte MaxMessageHeaderFormat
    {
        get => _maxMessageHeaderFormat;
        set
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, (byte)3);
            _maxMessageHeaderFormat = value;
        }
    }

    /// <summary>Writes one message as chunks.</summary>
    public void Write(IBufferWriter<byte> output, int chunkStreamId, RtmpMessageType type, uint timestamp, uint messageStreamId, ReadOnlySpan<byte> payload)
    {
        if (payload.Length > ChunkStreamReader.MaxWireMessageLength)
        {
            throw new ArgumentOutOfRangeException(nameof(payload), payload.Length, "An RTMP message carries at most 16 MiB - 1 bytes.");
        }

        _streams.TryGetValue(chunkStreamId, out var state);
        byte format;
        uint field;
        if (state is null || state.StreamId != messageStreamId || timestamp < state.Timestamp)
        {
            format = 0;
            field = timestamp;
        }
        else
        {
            var delta = timestamp - state.Timestamp;
            field = delta;
            if (state.Length != payload.Length || state.TypeId != (byte)type)
            {
                format = 1;
            }
            else if (delta == state.Delta && delta < ChunkMessageHeader.ExtendedTimestampMarker)
            {
                format = 3;
            }
            else
            {
                format = 2;
            }

            if (format > _maxMessageHeaderFormat)
            {
                format = _maxMessageHeaderFormat;
                field = format == 0 ? timestamp : delta;
            }
        }

        if (state is null)
        {
            state = new OutState();
            _streams.Add(chunkStreamId, state);
        }

        state.StreamId = messageStreamId;
        state.Timestamp = timestamp;
        state.Length = payload.Length;
        state.TypeId = (byte)type;
        if (format != 3)
        {
            state.Delta = field; // after fmt 0 the "delta" a fmt 3 repeats is the timestamp itself (§5.3.1.2.4)
        }

        var extended = format != 3 && field >= ChunkMessageHeader.ExtendedTimestampMarker;
        var first = new ChunkMessageHeader(format, format == 3 ? 0 : field, payload.Length, (byte)type, messageStreamId, extended);
        var continuation = new ChunkMessageHeader(3, field, 0, 0, 0, extended);

        var offset = 0;
        var isFirst = true;
        do
        {
            var count = Math.Min(_chunkSize, payload.Length - offset);
            var span = output.GetSpan(MaxHeaderSize + count);
            var written = new ChunkBasicHeader(isFirst ? format : (byte)3, chunkStreamId).Write(span);
            written += (isFirst ? first : continuation).Write(span[written..]);
            payload.Slice(offset, count).CopyTo(span[written..]);
            output.Advance(written + count);
            offset += count;
            isFirst = false;
        }
        while (offset < payload.Length);
    }

    private sealed class OutState
    {
        public uint StreamId;
        public uint Timestamp;
        public uint Delta;
        public int Length;
        public byte TypeId;
    }
}
