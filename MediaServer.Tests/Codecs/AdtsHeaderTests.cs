using FsCheck;
using FsCheck.Fluent;
using MediaServer.Core.Codecs;
using MediaServer.Core.Codecs.Aac;
using MediaServer.Tests.Infrastructure;
using PropertyAttribute = FsCheck.NUnit.PropertyAttribute;

namespace MediaServer.Tests.Codecs;

public class AdtsHeaderTests
{
    [Test]
    public void Write_AacLc44100StereoFrame371_Golden()
    {
        var config = AudioSpecificConfig.Parse([0x12, 0x10]);
        Span<byte> header = stackalloc byte[7];

        AdtsHeader.For(config, 364).Write(header);

        // fff1: sync, MPEG-4, layer 0, no CRC | 50: profile 1 (LC), index 4 (44100), private 0, channels b2 = 0
        // | 80: channels 2 (low bits 10), original/home/copyright 0, length b12..11 = 0
        // | 2e 7f: length 371 = 0x173 → 0 0010 1110 011 | 1 1111 (fullness 0x7FF high) | fc: fullness low, 1 block
        Assert.That(Convert.ToHexStringLower(header), Is.EqualTo("fff150802e7ffc"));
    }

    [Test]
    public void For_HeAacExplicit_UsesCoreProfileAndRate()
    {
        var config = AudioSpecificConfig.Parse(MediaTestData.Hex("2b118800")); // SBR, core LC 24 kHz stereo
        var header = AdtsHeader.For(config, 100);
        Assert.That(header, Is.EqualTo(new AdtsHeader(1, 6, 2, 107)));
    }

    [Test]
    public void For_ObjectTypeAbove4_ThrowsUnsupported()
    {
        var config = new AudioSpecificConfig { ObjectType = 42, CoreObjectType = 42, SamplingFrequencyIndex = 3, SamplingFrequency = 48000, ChannelConfiguration = 2 };
        var ex = Assert.Throws<CodecException>(() => AdtsHeader.For(config, 10));
        Assert.That(ex!.Error, Is.EqualTo(CodecError.Unsupported));
    }

    [Test]
    public void For_ChannelConfigZero_ThrowsUnsupported()
    {
        var config = AudioSpecificConfig.Parse([0x12, 0x00]);
        var ex = Assert.Throws<CodecException>(() => AdtsHeader.For(config, 10));
        Assert.That(ex!.Error, Is.EqualTo(CodecError.Unsupported));
    }

    [Test]
    public void For_FrameTooLong_ThrowsInvalidLength()
    {
        var config = AudioSpecificConfig.Parse([0x12, 0x10]);
        Assert.That(AdtsHeader.For(config, AdtsHeader.MaxFrameLength - 7).FrameLength, Is.EqualTo(AdtsHeader.MaxFrameLength));
        var ex = Assert.Throws<CodecException>(() => AdtsHeader.For(config, AdtsHeader.MaxFrameLength - 6));
        Assert.That(ex!.Error, Is.EqualTo(CodecError.InvalidLength));
    }

    [Test]
    public void For_ExplicitTableFrequency_MapsToIndex()
    {
        var config = new AudioSpecificConfig { ObjectType = 2, CoreObjectType = 2, SamplingFrequencyIndex = 15, SamplingFrequency = 22050, ChannelConfiguration = 1 };
        Assert.That(AdtsHeader.For(config, 1).SamplingFrequencyIndex, Is.EqualTo(7));
    }

    [Test]
    public void Write_EveryFrameOfFfmpegAdts_EqualsFfmpegHeader()
    {
        Tools.RequireFfmpeg();
        using var dir = MediaTestData.TempDirectory("adts");
        var path = Path.Combine(dir, "a.aac");
        var (code, _, stderr) = MediaTestData.Run("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000", "-ac", "2", "-t", "1", "-c:a", "aac", "-f", "adts", path);
        Assert.That(code, Is.Zero, stderr);
        var data = File.ReadAllBytes(path);

        // AudioSpecificConfig for ffmpeg's encoder at 48 kHz stereo: LC, index 3, 2 channels.
        var config = AudioSpecificConfig.Parse([0x11, 0x90]);
        var frames = 0;
        Span<byte> ours = stackalloc byte[7];
        for (var offset = 0; offset < data.Length; frames++)
        {
            var theirs = data.AsSpan(offset, 7);
            var length = AdtsHeader.Parse(theirs).FrameLength;
            AdtsHeader.For(config, length - 7).Write(ours);
            Assert.That(Convert.ToHexStringLower(ours), Is.EqualTo(Convert.ToHexStringLower(theirs)), $"frame {frames}");
            offset += length;
        }

        Assert.That(frames, Is.GreaterThan(40));
    }

    [Property(MaxTest = 300, Replay = "(99,101)")]
    public Property Roundtrip_Header()
    {
        var gen =
            from profile in Gen.Choose(0, 3)
            from index in Gen.Choose(0, 12)
            from channels in Gen.Choose(1, 7)
            from length in Gen.Choose(7, AdtsHeader.MaxFrameLength)
            select new AdtsHeader(profile, index, channels, length);
        return Prop.ForAll(gen.ToArbitrary(), header =>
        {
            var bytes = new byte[7];
            header.Write(bytes);
            return AdtsHeader.Parse(bytes) == header;
        });
    }
}
