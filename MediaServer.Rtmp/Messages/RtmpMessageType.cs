namespace MediaServer.Rtmp.Messages;

/// <summary>RTMP message type ids (RTMP 1.0 spec §5.4, §7.1).</summary>
public enum RtmpMessageType : byte
{
    SetChunkSize = 1,
    Abort = 2,
    Acknowledgement = 3,
    UserControl = 4,
    WindowAcknowledgementSize = 5,
    SetPeerBandwidth = 6,
    Audio = 8,
    Video = 9,
    DataAmf3 = 15,
    SharedObjectAmf3 = 16,
    CommandAmf3 = 17,
    DataAmf0 = 18,
    SharedObjectAmf0 = 19,
    CommandAmf0 = 20,
    Aggregate = 22,
}

/// <summary>User Control Message event types (RTMP 1.0 spec §7.1.7).</summary>
public enum UserControlEventType : ushort
{
    StreamBegin = 0,
    StreamEof = 1,
    StreamDry = 2,
    SetBufferLength = 3,
    StreamIsRecorded = 4,
    PingRequest = 6,
    PingResponse = 7,
}

/// <summary>Set Peer Bandwidth limit types (RTMP 1.0 spec §5.4.5).</summary>
public enum PeerBandwidthLimitType : byte
{
    Hard = 0,
    Soft = 1,
    Dynamic = 2,
}
