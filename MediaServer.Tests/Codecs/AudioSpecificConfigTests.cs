using System.Buffers;
using FsCheck;
using FsCheck.Fluent;
using MediaServer.Core.Codecs;
using MediaServer.Core.Codecs.Aac;
using MediaServer.Tests.Infrastructure;
using PropertyAttribute = FsCheck.NUnit.PropertyAttribute;

namespace MediaServer.Tests.Codecs;

public class AudioSpecificConfigTests
{
    // 00010 AAC LC | 0100 44100 | 0010 stereo | 000 GASpecificConfig
    [TestCase("1210", 2, 4, 44100, 2)]
    // 00010 AAC LC | 0011 48000 | 0010 stereo | 000 (ffmpeg's aac encoder at 48 kHz writes 11 90 ... 56 e5 00)
    [TestCase("119056e500", 2, 3, 48000, 2)]
    // 00010 | 1011 8000 | 0001 mono | 000
    [TestCase("1588", 2, 11, 8000, 1)]
    // 00001 AAC Main | 1000 16000 | 0110 5.1 | 000
    [TestCase("0c30", 1, 8, 16000, 6)]
    public void Parse_Golden_ReadsFields(string hex, int objectType, int index, int frequency, int channels)
    {
        var config = AudioSpecificConfig.Parse(MediaTestData.Hex(hex));
        Assert.That(config, Is.EqualTo(new AudioSpecificConfig
        {
            ObjectType = objectType,
            CoreObjectType = objectType,
            SamplingFrequencyIndex = index,
            SamplingFrequency = frequency,
            ChannelConfiguration = channels,
            ExtensionSamplingFrequencyIndex = -1,
        }));
    }

    [Test]
    public void Parse_ExplicitHeAac_ReadsCoreAndExtension()
    {
        // 00101 SBR | 0110 24000 (core) | 0010 stereo | 0011 48000 (extension) | 00010 AAC LC | 000 pad
        // = 0010 1011 0001 0001 1000 0100 0 → 2b 11 88 00
        var config = AudioSpecificConfig.Parse(MediaTestData.Hex("2b118800"));

        Assert.Multiple(() =>
        {
            Assert.That(config.ObjectType, Is.EqualTo(5));
            Assert.That(config.HasSbr, Is.True);
            Assert.That(config.CoreObjectType, Is.EqualTo(2));
            Assert.That(config.SamplingFrequency, Is.EqualTo(24000));
            Assert.That(config.ExtensionSamplingFrequency, Is.EqualTo(48000));
            Assert.That(config.ChannelConfiguration, Is.EqualTo(2));
        });
    }

    [Test]
    public void Parse_EscapeObjectTypeAndExplicitFrequency_Read()
    {
        // 11111 escape | 000010 → type 34 | 1111 explicit | 0000 0000 1011 1011 1000 0000 (48000) | 0001 mono
        // bits: 11111000 01011110 00000001 01110111 00000000 001(0 0000) → f8 5e 01 77 00 20
        var config = AudioSpecificConfig.Parse(MediaTestData.Hex("f85e01770020"));

        Assert.Multiple(() =>
        {
            Assert.That(config.ObjectType, Is.EqualTo(34));
            Assert.That(config.SamplingFrequencyIndex, Is.EqualTo(15));
            Assert.That(config.SamplingFrequency, Is.EqualTo(48000));
            Assert.That(config.ChannelConfiguration, Is.EqualTo(1));
        });
    }

    [TestCase("12", CodecError.Truncated)]
    [TestCase("0010", CodecError.InvalidValue)] // object type 0
    [TestCase("16a0", CodecError.InvalidValue)] // sampling index 13 (reserved)
    [TestCase("1780000000", CodecError.InvalidValue)] // explicit frequency 0
    public void Parse_Malformed_ThrowsWithReason(string hex, CodecError error)
    {
        var ex = Assert.Throws<CodecException>(() => AudioSpecificConfig.Parse(MediaTestData.Hex(hex)));
        Assert.That(ex!.Error, Is.EqualTo(error));
    }

    [Test]
    public void Write_AacLc44100Stereo_Is1210()
    {
        var output = new ArrayBufferWriter<byte>();
        AudioSpecificConfig.Parse([0x12, 0x10]).Write(output);
        Assert.That(Convert.ToHexStringLower(output.WrittenSpan), Is.EqualTo("1210"));
    }

    [Property(MaxTest = 300, Replay = "(31,415)")]
    public Property Roundtrip_Config()
    {
        var frequency =
            from index in Gen.Choose(0, 13)
            from explicitRate in Gen.Choose(1, 192000)
            select index == 13 ? (15, explicitRate) : (index, AudioSpecificConfig.GetFrequency(index));
        var objectType = Gen.Choose(1, 95).Where(t => t is not 5 and not 29);
        var gen =
            from sbr in Gen.Elements(0, 5, 29)
            from type in objectType
            from core in frequency
            from ext in frequency
            from channels in Gen.Choose(0, 15)
            select sbr == 0
                ? new AudioSpecificConfig { ObjectType = type, CoreObjectType = type, SamplingFrequencyIndex = core.Item1, SamplingFrequency = core.Item2, ChannelConfiguration = channels, ExtensionSamplingFrequencyIndex = -1 }
                : new AudioSpecificConfig { ObjectType = sbr, CoreObjectType = type, SamplingFrequencyIndex = core.Item1, SamplingFrequency = core.Item2, ChannelConfiguration = channels, ExtensionSamplingFrequencyIndex = ext.Item1, ExtensionSamplingFrequency = ext.Item2 };
        return Prop.ForAll(gen.ToArbitrary(), config =>
        {
            var output = new ArrayBufferWriter<byte>();
            config.Write(output);
            return AudioSpecificConfig.Parse(output.WrittenSpan) == config;
        });
    }
}
