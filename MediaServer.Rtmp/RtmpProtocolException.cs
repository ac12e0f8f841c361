using System.Diagnostics.CodeAnalysis;

namespace MediaServer.Rtmp;

/// <summary>Why an RTMP connection was ended by protocol error.</summary>
public enum RtmpProtocolError
{
    UnsupportedHandshakeVersion = 1,
    HandshakeTimeout = 2,
    HandshakeIncomplete = 3,
    InvalidChunkSize = 4,
    ChunkSizeTooLarge = 5,
    MessageTooLarge = 6,
    TooManyChunkStreams = 7,
    NoPreviousHeader = 8,
    HeaderInsideMessage = 9,
    TooMuchPendingData = 10,
    InvalidControlMessage = 11,
    InvalidCommand = 12,
    IdleTimeout = 13,
    ConnectionClosed = 14,
    UnexpectedResponse = 15,

    /// <summary>A peer did not answer a command (or the handshake) in time (client side).</summary>
    CommandTimeout = 16,

    /// <summary>The server refused connect or publish (<c>_error</c>, <c>NetStream.Publish.BadName</c>, ...).</summary>
    Rejected = 17,
}

/// <summary>A protocol violation: ends that one connection, logged once with the reason.</summary>
public sealed class RtmpProtocolException : Exception
{
    public RtmpProtocolException(RtmpProtocolError reason)
        : base($"RTMP protocol error: {reason}.")
    {
        Reason = reason;
    }

    public RtmpProtocolException(RtmpProtocolError reason, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Reason = reason;
    }

    public RtmpProtocolError Reason { get; }

    [DoesNotReturn]
    internal static void Throw(RtmpProtocolError reason) => throw new RtmpProtocolException(reason);

    [DoesNotReturn]
    internal static void Throw(RtmpProtocolError reason, string message) => throw new RtmpProtocolException(reason, message);
}
