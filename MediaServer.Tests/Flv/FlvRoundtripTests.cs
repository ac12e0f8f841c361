using System.Buffers;
using FsCheck;
using FsCheck.Fluent;
using MediaServer.Core.Buffers;
using MediaServer.Core.Flv;
using MediaServer.Core.Media;
using PropertyAttribute = FsCheck.NUnit.PropertyAttribute;

namespace MediaServer.Tests.Flv;

/// <summary>What a generated frame holds (plain data so FsCheck can print and shrink it).</summary>
public sealed record FrameSpec(MediaKind Kind, MediaCodec Codec, FrameFlags Flags, long Timestamp, int CompositionTime, byte[] Payload)
{
    public override string ToString() =>
        $"{Kind} {Codec} {Flags} ts={Timestamp} cts={CompositionTime} payload={Convert.ToHexString(Payload)}";
}

public class FlvRoundtripTests
{
    private static readonly MediaCodec[] VideoCodecs = [MediaCodec.H264, MediaCodec.Hevc, MediaCodec.Av1, MediaCodec.Vp9];
    private static readonly MediaCodec[] AudioCodecs = [MediaCodec.Aac, MediaCodec.Mp3, MediaCodec.Opus, MediaCodec.Flac, MediaCodec.Ac3, MediaCodec.Eac3];

    private static Gen<byte[]> Bytes(int maxLength) =>
        Gen.Choose(0, maxLength).SelectMany(length => Gen.Choose(0, 255).Select(b => (byte)b).ArrayOf(length));

    private static Gen<FrameSpec> VideoFrames =>
        from codec in Gen.Elements(VideoCodecs)
        from keyframe in Gen.Elements(true, false)
        from kind in Gen.Elements(FrameFlags.None, FrameFlags.Config, FrameFlags.EndOfSequence)
        from timestamp in Gen.Choose(0, int.MaxValue).Select(t => (long)t * 3)
        from cts in codec is MediaCodec.H264 or MediaCodec.Hevc && kind == FrameFlags.None
            ? Gen.Frequency((1, Gen.Constant(0)), (4, Gen.Choose(FlvLimits.MinCompositionTime, FlvLimits.MaxCompositionTime)))
            : Gen.Constant(0)
        from payload in kind == FrameFlags.EndOfSequence ? Gen.Constant(Array.Empty<byte>()) : Bytes(64)
        select new FrameSpec(MediaKind.Video, codec, kind | (keyframe ? FrameFlags.Keyframe : FrameFlags.None), timestamp, cts, payload);

    private static Gen<FrameSpec> AudioFrames =>
        from codec in Gen.Elements(AudioCodecs)
        from flags in Gen.Elements(FrameFlags.None, FrameFlags.Config, FrameFlags.EndOfSequence)
        from timestamp in Gen.Choose(0, int.MaxValue).Select(t => (long)t)
        from payload in flags == FrameFlags.EndOfSequence ? Gen.Constant(Array.Empty<byte>()) : Bytes(64)
        select new FrameSpec(MediaKind.Audio, codec, flags, timestamp, 0, payload);

    // Script data must start with its AMF0 string name; letters only, so it is never "@setDataFrame".
    private static Gen<FrameSpec> DataFrames =>
        from name in Gen.Choose('a', 'z').Select(c => (byte)c).ArrayOf().Where(n => n.Length is > 0 and < 40)
        from tail in Bytes(64)
        select new FrameSpec(MediaKind.Data, MediaCodec.Script, FrameFlags.None, 0, 0,
            [0x02, 0x00, (byte)name.Length, .. name, .. tail]);

    private static Arbitrary<FrameSpec> AnyFrame => Gen.OneOf(VideoFrames, AudioFrames, DataFrames).ToArbitrary();

    [Property(MaxTest = 500, Replay = "(20240515,11)")]
    public Property Roundtrip_MediaFrame() => Prop.ForAll(AnyFrame, spec =>
    {
        var payload = MediaBuffer.CopyOf(spec.Payload);
        var original = new MediaFrame(spec.Kind, spec.Codec, spec.Flags, spec.Timestamp, spec.CompositionTime, payload);
        var output = new ArrayBufferWriter<byte>();
        FlvMuxer.WriteTagBody(original, output);
        var lengthMatches = output.WrittenCount == FlvMuxer.GetTagBodyLength(original);
        payload.Release();

        var status = FlvDemuxer.Demux(FlvMuxer.GetTagType(original), spec.Timestamp, output.WrittenSpan, out var frame, out _);
        if (status != FlvDemuxStatus.Frame)
        {
            return false.Label($"status {status}");
        }

        var same = frame.Kind == spec.Kind && frame.Codec == spec.Codec && frame.Flags == spec.Flags
            && frame.Timestamp == spec.Timestamp && frame.CompositionTime == spec.CompositionTime
            && frame.Span.SequenceEqual(spec.Payload);
        var got = $"{frame.Kind} {frame.Codec} {frame.Flags} cts={frame.CompositionTime} payload={Convert.ToHexString(frame.Span)}";
        frame.Payload.Release();
        return (lengthMatches && same).Label("got " + got + " from " + Convert.ToHexString(output.WrittenSpan));
    });

    /// <summary>Fuzz contract: arbitrary bodies (biased towards real headers) only ever yield a status or an
    /// <see cref="FlvFormatException"/>, and a produced frame owns exactly one reference.</summary>
    [Property(MaxTest = 2000, Replay = "(20240515,17)")]
    public Property Demux_AnyBytes_ThrowsOnlyFlvFormatException() => Prop.ForAll(
        Gen.Elements(FlvTagType.Audio, FlvTagType.Video, FlvTagType.Script).ToArbitrary(),
        Gen.OneOf(
            Bytes(24),
            from head in Gen.Elements<byte>(0x17, 0x27, 0x1C, 0x57, 0x90, 0x91, 0x93, 0x96, 0x97, 0xAF, 0x2F, 0x95, 0x02)
            from fourCc in Gen.Elements("hvc1", "av01", "vp09", "avc1", "Opus", "mp4a", "zzzz")
            from tail in Bytes(24)
            select (byte[])[head, .. System.Text.Encoding.ASCII.GetBytes(fourCc), .. tail]).ToArbitrary(),
        (type, body) =>
        {
            try
            {
                var status = FlvDemuxer.Demux(type, 0, body, out var frame, out var unsupported);
                if (status == FlvDemuxStatus.Frame)
                {
                    var ok = frame.Payload.RefCount == 1 && frame.Payload.Length <= body.Length;
                    frame.Payload.Release();
                    return ok;
                }

                return (status == FlvDemuxStatus.UnsupportedCodec) == (unsupported is not null);
            }
            catch (FlvFormatException)
            {
                return true;
            }
        });
}
