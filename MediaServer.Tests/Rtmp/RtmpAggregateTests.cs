using MediaServer.Core.Flv;
using MediaServer.Rtmp.Messages;

namespace MediaServer.Tests.Rtmp;

public class RtmpAggregateTests
{
    /// <summary>An aggregate body: each sub-message as an FLV tag with its back pointer (unless left off at the end).</summary>
    internal static byte[] Aggregate(bool lastBackPointer, params (RtmpMessageType Type, uint Timestamp, byte[] Body)[] messages)
    {
        var bytes = new List<byte>();
        for (var i = 0; i < messages.Length; i++)
        {
            var (type, timestamp, body) = messages[i];
            bytes.Add((byte)type);
            bytes.AddRange([(byte)(body.Length >> 16), (byte)(body.Length >> 8), (byte)body.Length]);
            bytes.AddRange([(byte)(timestamp >> 16), (byte)(timestamp >> 8), (byte)timestamp, (byte)(timestamp >> 24)]);
            bytes.AddRange([0, 0, 1]); // a sub-message stream id, overridden by the aggregate's
            bytes.AddRange(body);
            if (lastBackPointer || i < messages.Length - 1)
            {
                var size = 11 + body.Length;
                bytes.AddRange([(byte)(size >> 24), (byte)(size >> 16), (byte)(size >> 8), (byte)size]);
            }
        }

        return [.. bytes];
    }

    [TestCase(true, TestName = "TryReadNext_SubMessages_ComeOutWithTheirBodies")]
    [TestCase(false, TestName = "TryReadNext_LastBackPointerMissing_IsTolerated")]
    public void TryReadNext_ReadsEverySubMessage(bool lastBackPointer)
    {
        var body = Aggregate(lastBackPointer,
            (RtmpMessageType.Video, 0x01000010, [0x17, 1, 0, 0, 0, 9, 9]),
            (RtmpMessageType.Audio, 0x01000020, [0xAF, 1, 7]),
            (RtmpMessageType.Video, 0x01000030, []));

        var read = new List<RtmpSubMessage>();
        var offset = 0;
        while (RtmpAggregate.TryReadNext(body, ref offset, out var sub))
        {
            read.Add(sub);
        }

        Assert.That(read.Select(m => (m.Type, m.Timestamp, m.Length)), Is.EqualTo(new[]
        {
            (RtmpMessageType.Video, 0x01000010u, 7),
            (RtmpMessageType.Audio, 0x01000020u, 3),
            (RtmpMessageType.Video, 0x01000030u, 0),
        }));
        Assert.That(body.AsSpan(read[1].Offset, read[1].Length).ToArray(), Is.EqualTo(new byte[] { 0xAF, 1, 7 }));
        Assert.That(offset, Is.EqualTo(body.Length));
    }

    [Test]
    public void TryReadNext_Empty_HasNothing()
    {
        var offset = 0;
        Assert.That(RtmpAggregate.TryReadNext([], ref offset, out _), Is.False);
    }

    [TestCase(5, TestName = "TryReadNext_EndsInsideAHeader_Throws")]
    [TestCase(14, TestName = "TryReadNext_BodyPastTheEnd_Throws")]
    public void TryReadNext_Truncated_ThrowsFlvFormat(int keep)
    {
        var body = Aggregate(true, (RtmpMessageType.Audio, 0, [0xAF, 1, 7, 7, 7, 7, 7]));
        var offset = 0;
        Assert.Throws<FlvFormatException>(() => RtmpAggregate.TryReadNext(body.AsSpan(0, keep), ref offset, out _));
    }

    [Test]
    public void TryReadNext_LyingLength_ThrowsFlvFormat()
    {
        var body = Aggregate(true, (RtmpMessageType.Audio, 0, [0xAF, 1, 7]));
        body[1] = 0xFF; // 16 MiB declared
        var offset = 0;
        Assert.Throws<FlvFormatException>(() => RtmpAggregate.TryReadNext(body, ref offset, out _));
    }

    [TestCase(1000u, 500u, 520u, 1020u)]
    [TestCase(0xFFFFFFF0u, 0u, 0x20u, 0x10u)] // wraps like any RTMP timestamp
    [TestCase(100u, 5000u, 5000u, 100u)]
    public void Timestamp_IsTheAggregatesPlusTheOffsetFromTheFirst(uint aggregate, uint first, uint sub, uint expected) =>
        Assert.That(RtmpAggregate.Timestamp(aggregate, first, sub), Is.EqualTo(expected));
}
