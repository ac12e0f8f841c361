using MediaServer.Core.Codecs;
using MediaServer.Core.Codecs.Mp3;
using MediaServer.Tests.Infrastructure;

namespace MediaServer.Tests.Codecs;

public class MpegAudioFrameHeaderTests
{
    // fffb: sync, MPEG-1 (11), layer III (01), no CRC | 90: 128 kbit/s, 44100 (00), no padding | 64: joint stereo
    [TestCase("fffb9064", 1, 3, 44100, 2)]
    // fff3: MPEG-2 (10), layer III | 88: 64 kbit/s, 22050 (00)... index 2 → 16000 | c4: mono
    [TestCase("fff388c4", 2, 3, 16000, 1)]
    // ffe3: MPEG-2.5 (00), layer III | 84: 8000*... index 1 → 12000 | 00 stereo
    [TestCase("ffe38400", 25, 3, 12000, 2)]
    public void Parse_Golden_ReadsVersionAndRate(string hex, int version, int layer, int rate, int channels)
    {
        var header = MpegAudioFrameHeader.Parse(MediaTestData.Hex(hex));
        Assert.That(header, Is.EqualTo(new MpegAudioFrameHeader(version, layer, rate, channels)));
    }

    [TestCase("fffb", CodecError.Truncated)]
    [TestCase("00fb9064", CodecError.InvalidValue)]
    [TestCase("ffeb9064", CodecError.InvalidValue)] // version 01 reserved
    [TestCase("fffb9c64", CodecError.InvalidValue)] // rate index 3 reserved
    public void Parse_Malformed_ThrowsWithReason(string hex, CodecError error)
    {
        var ex = Assert.Throws<CodecException>(() => MpegAudioFrameHeader.Parse(MediaTestData.Hex(hex)));
        Assert.That(ex!.Error, Is.EqualTo(error));
    }
}
