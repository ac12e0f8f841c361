using System.Buffers;
using MediaServer.Core.Amf;
using MediaServer.Rtmp;
using MediaServer.Rtmp.Chunking;
using MediaServer.Rtmp.Messages;

namespace MediaServer.Tests.Rtmp;

public class ProtocolControlTests
{
    public static IEnumerable<TestCaseData> ControlMessages()
    {
        // Whole chunks: 02 (fmt 0, csid 2) | ts 000000 | length | type | stream 00000000 | payload
        yield return new TestCaseData("02" + "000000" + "000004" + "01" + "00000000" + "00001000", RtmpMessageType.SetChunkSize, ProtocolControl.SetChunkSize(4096)).SetName("SetChunkSize_4096");
        yield return new TestCaseData("02" + "000000" + "000004" + "02" + "00000000" + "00000004", RtmpMessageType.Abort, ProtocolControl.Abort(4)).SetName("Abort_Csid4");
        yield return new TestCaseData("02" + "000000" + "000004" + "03" + "00000000" + "FFFFFFFF", RtmpMessageType.Acknowledgement, ProtocolControl.Acknowledgement(uint.MaxValue)).SetName("Acknowledgement_Max");
        yield return new TestCaseData("02" + "000000" + "000004" + "05" + "00000000" + "002625A0", RtmpMessageType.WindowAcknowledgementSize, ProtocolControl.WindowAcknowledgementSize(2_500_000)).SetName("WindowAckSize_2500000");
        // Set Peer Bandwidth: window | limit type 02 (dynamic)
        yield return new TestCaseData("02" + "000000" + "000005" + "06" + "00000000" + "002625A0" + "02", RtmpMessageType.SetPeerBandwidth, ProtocolControl.SetPeerBandwidth(2_500_000, PeerBandwidthLimitType.Dynamic)).SetName("SetPeerBandwidth_Dynamic");
        // User Control: event type 0000 StreamBegin | stream id 00000001
        yield return new TestCaseData("02" + "000000" + "000006" + "04" + "00000000" + "0000" + "00000001", RtmpMessageType.UserControl, UserControlEvent.StreamBegin(1).ToPayload()).SetName("UserControl_StreamBegin");
        // User Control: 0006 PingRequest | timestamp 00BC614E
        yield return new TestCaseData("02" + "000000" + "000006" + "04" + "00000000" + "0006" + "00BC614E", RtmpMessageType.UserControl, UserControlEvent.PingRequest(12345678).ToPayload()).SetName("UserControl_PingRequest");
        // User Control: 0003 SetBufferLength | stream 00000001 | 00000BB8 ms
        yield return new TestCaseData("02" + "000000" + "00000A" + "04" + "00000000" + "0003" + "00000001" + "00000BB8", RtmpMessageType.UserControl, UserControlEvent.SetBufferLength(1, 3000).ToPayload()).SetName("UserControl_SetBufferLength");
    }

    [TestCaseSource(nameof(ControlMessages))]
    public void ControlMessage_GoldenVector_Encodes(string hex, RtmpMessageType type, byte[] payload)
    {
        var output = new ArrayBufferWriter<byte>();
        new ChunkStreamWriter().Write(output, ProtocolControl.ChunkStreamId, type, 0, 0, payload);
        Assert.That(Convert.ToHexString(output.WrittenSpan), Is.EqualTo(hex));
    }

    [TestCaseSource(nameof(ControlMessages))]
    public void ControlMessage_GoldenVector_Decodes(string hex, RtmpMessageType type, byte[] payload)
    {
        using var reader = new ChunkStreamReader();
        var messages = ChunkStreamTests.ReadAll(reader, Convert.FromHexString(hex));
        Assert.That(messages.Single().SameAs(new TestMessage(2, type, 0, 0, payload)), Is.True);
    }

    [Test]
    public void UserControlEvent_Parse_RoundTrips()
    {
        var parsed = UserControlEvent.Parse(Convert.FromHexString("0003" + "00000001" + "00000BB8"));
        Assert.That(parsed, Is.EqualTo(UserControlEvent.SetBufferLength(1, 3000)));
    }

    [Test]
    public void UserControlEvent_Short_Throws()
    {
        var ex = Assert.Throws<RtmpProtocolException>(() => UserControlEvent.Parse(Convert.FromHexString("0006000000")));
        Assert.That(ex!.Reason, Is.EqualTo(RtmpProtocolError.InvalidControlMessage));
    }

    [Test]
    public void SetPeerBandwidth_Parse_ReadsWindowAndLimit()
    {
        var (window, limit) = ProtocolControl.ReadSetPeerBandwidth(Convert.FromHexString("002625A001"));
        Assert.That((window, limit), Is.EqualTo((2_500_000u, PeerBandwidthLimitType.Soft)));
    }

    [Test]
    public void RtmpCommand_Amf3Wrapped_ParsesAfterLeadingZero()
    {
        // 00 (AMF3 command format byte) | 02 0007 "connect" | 00 3FF0.. (1.0) | 03 0003 "app" 02 0004 "live" 000009
        var body = Convert.FromHexString("00" + "020007636F6E6E656374" + "003FF0000000000000" + "030003617070020004" + "6C697665" + "000009");
        var command = RtmpCommand.Parse(body, amf3: true);
        Assert.Multiple(() =>
        {
            Assert.That(command.Name, Is.EqualTo("connect"));
            Assert.That(command.TransactionId, Is.EqualTo(1d));
            Assert.That(command.GetObjectArgument(-1)?["app"], Is.EqualTo("live"));
        });
    }

    [Test]
    public void RtmpCommand_EncodeParse_RoundTrips()
    {
        var bytes = RtmpCommand.Encode("publish", 5, null, "key", "live");
        var command = RtmpCommand.Parse(bytes, amf3: false);
        Assert.Multiple(() =>
        {
            Assert.That(command.Name, Is.EqualTo("publish"));
            Assert.That(command.TransactionId, Is.EqualTo(5d));
            Assert.That(command.CommandObject, Is.Null);
            Assert.That(command.Arguments, Is.EqualTo(new object?[] { "key", "live" }));
        });
    }

    [Test]
    public void RtmpCommand_NotAString_ThrowsAmfException()
    {
        Assert.Throws<AmfException>(() => RtmpCommand.Parse(Convert.FromHexString("003FF0000000000000"), amf3: false));
    }
}
