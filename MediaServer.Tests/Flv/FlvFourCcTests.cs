using MediaServer.Core.Flv;
using MediaServer.Core.Media;

namespace MediaServer.Tests.Flv;

public class FlvFourCcTests
{
    private static readonly (uint FourCc, MediaCodec Codec, MediaKind Kind, bool Cts)[] s_expected =
    [
        (FlvFourCc.Avc1, MediaCodec.H264, MediaKind.Video, true),
        (FlvFourCc.Hvc1, MediaCodec.Hevc, MediaKind.Video, true),
        (FlvFourCc.Av01, MediaCodec.Av1, MediaKind.Video, false),
        (FlvFourCc.Vp09, MediaCodec.Vp9, MediaKind.Video, false),
        (FlvFourCc.Mp4a, MediaCodec.Aac, MediaKind.Audio, false),
        (FlvFourCc.Opus, MediaCodec.Opus, MediaKind.Audio, false),
        (FlvFourCc.Flac, MediaCodec.Flac, MediaKind.Audio, false),
        (FlvFourCc.Ac3, MediaCodec.Ac3, MediaKind.Audio, false),
        (FlvFourCc.Eac3, MediaCodec.Eac3, MediaKind.Audio, false),
        (FlvFourCc.Mp3, MediaCodec.Mp3, MediaKind.Audio, false),
    ];

    [Test]
    public void Table_MapsBothWays()
    {
        foreach (var (fourCc, codec, kind, cts) in s_expected)
        {
            Assert.That(FlvFourCc.TryGetCodec(fourCc, kind, out var found, out var hasCts), Is.True, codec.ToString());
            Assert.That((found, hasCts), Is.EqualTo((codec, cts)));
            Assert.That(FlvFourCc.FromCodec(codec), Is.EqualTo(fourCc));
        }
    }

    [Test]
    public void TryGetCodec_WrongKindOrUnknown_False()
    {
        Assert.That(FlvFourCc.TryGetCodec(FlvFourCc.Mp4a, MediaKind.Video, out _, out _), Is.False, "an audio FourCC in a video tag");
        Assert.That(FlvFourCc.TryGetCodec(FlvFourCc.Vp08, MediaKind.Video, out _, out _), Is.False, "VP8 is not carried");
        Assert.That(FlvFourCc.FromCodec(MediaCodec.Script), Is.Zero);
    }
}
