using MediaServer.Core.Buffers;
using MediaServer.Core.Flv;
using MediaServer.Rtmp.Chunking;
using MediaServer.Rtmp.Messages;

namespace MediaServer.Tests.Rtmp;

public class RtmpMediaTimelineTests
{
    [Test]
    public void TryMap_TracksWrapTheir32BitTimestampsIndependently()
    {
        var timeline = default(RtmpMediaTimeline);

        Assert.That(Map(ref timeline, RtmpMessageType.Video, 0xFFFF_FF00u).Timestamp, Is.EqualTo(0xFFFF_FF00L));
        Assert.That(Map(ref timeline, RtmpMessageType.Audio, 0xFFFF_FF10u).Timestamp, Is.EqualTo(0xFFFF_FF10L));
        Assert.That(Map(ref timeline, RtmpMessageType.Video, 0x20u).Timestamp, Is.EqualTo(0x1_0000_0020L), "video wrapped");
        Assert.That(Map(ref timeline, RtmpMessageType.Audio, 0xFFFF_FF30u).Timestamp, Is.EqualTo(0xFFFF_FF30L), "audio has not wrapped yet");
        Assert.That(Map(ref timeline, RtmpMessageType.Audio, 0x40u).Timestamp, Is.EqualTo(0x1_0000_0040L), "now it has");
    }

    [Test]
    public void TryMap_DataMessages_AreScriptTags_Amf3LosesItsFormatByte()
    {
        var timeline = default(RtmpMediaTimeline);

        var amf0 = Map(ref timeline, RtmpMessageType.DataAmf0, 5, 0x02, 0x00);
        var amf3 = Map(ref timeline, RtmpMessageType.DataAmf3, 6, 0x00, 0x02, 0x00);

        Assert.That(amf0, Is.EqualTo((true, FlvTagType.Script, 5L, "0200")));
        Assert.That(amf3, Is.EqualTo((true, FlvTagType.Script, 6L, "0200")));
    }

    [TestCase(RtmpMessageType.CommandAmf0)]
    [TestCase(RtmpMessageType.SetChunkSize)]
    public void TryMap_OtherMessages_AreNotMedia(RtmpMessageType type)
    {
        var timeline = default(RtmpMediaTimeline);
        Assert.That(Map(ref timeline, type, 1).Mapped, Is.False);
    }

    private static (bool Mapped, FlvTagType Type, long Timestamp, string Body) Map(ref RtmpMediaTimeline timeline, RtmpMessageType type, uint timestamp, params byte[] body)
    {
        var payload = MediaBuffer.CopyOf(body);
        try
        {
            var message = new RtmpMessage(4, type, timestamp, 1, payload);
            var mapped = timeline.TryMap(message, out var tagType, out var extended, out var tagBody);
            return (mapped, tagType, extended, Convert.ToHexStringLower(tagBody));
        }
        finally
        {
            payload.Release();
        }
    }
}
