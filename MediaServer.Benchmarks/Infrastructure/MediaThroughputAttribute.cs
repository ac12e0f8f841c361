using MediaServer.Benchmarks.Inputs;
using MediaServer.Core.Flv;

namespace MediaServer.Benchmarks.Infrastructure;

/// <summary>Which part of the benchmark media one operation of a benchmark carries.</summary>
public enum MediaInput
{
    /// <summary>Every tag of the file (metadata and sequence headers included).</summary>
    WholeStream = 1,

    /// <summary>The steady-state audio and video tags (after metadata and sequence headers).</summary>
    MediaTags = 2,

    /// <summary>The steady-state video tags only.</summary>
    VideoTags = 3,

    /// <summary>One OBS <c>connect</c> command body.</summary>
    ObsConnect = 4,

    /// <summary>One OBS <c>@setDataFrame onMetaData</c> body.</summary>
    ObsSetDataFrame = 5,
}

/// <summary>
/// Declares what one operation of a benchmark carries, for <see cref="ThroughputColumn"/>. On a class it applies
/// to every method; on a method it overrides the class.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, Inherited = true)]
public sealed class MediaThroughputAttribute(MediaInput input) : Attribute
{
    public MediaInput Input { get; } = input;

    /// <summary>Media bytes (FLV tag bodies, or AMF0 bytes) and frames (tags, or messages) per operation.</summary>
    public static (long Bytes, long Frames) Measure(MediaInput input)
    {
        switch (input)
        {
            case MediaInput.ObsConnect:
                return (Amf0Samples.ObsConnect().Length, 1);
            case MediaInput.ObsSetDataFrame:
                return (Amf0Samples.ObsSetDataFrame().Length, 1);
        }

        var media = BenchmarkMedia.Shared;
        var tags = input switch
        {
            MediaInput.WholeStream => media.Tags,
            MediaInput.MediaTags => media.MediaTags,
            MediaInput.VideoTags => Array.FindAll(media.MediaTags, static t => t.Type == FlvTagType.Video),
            _ => throw new ArgumentOutOfRangeException(nameof(input), input, null),
        };
        return (BenchmarkMedia.BodyBytes(tags), tags.Length);
    }
}
