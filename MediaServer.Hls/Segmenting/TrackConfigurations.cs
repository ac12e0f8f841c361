using MediaServer.Core.Codecs;
using MediaServer.Core.Media;
using MediaServer.Hls.Storage;

namespace MediaServer.Hls.Segmenting;

/// <summary>
/// The codec configuration each track last announced, and what the playlist says about it (CODECS): tells
/// the segmenter when a sequence header changes the parameters (a break) and describes each track to the
/// <see cref="HlsStream"/> once per change. MP3 has no sequence header: its first frame describes it.
/// </summary>
internal sealed class TrackConfigurations(HlsStream stream)
{
    private byte[]? _video;
    private byte[]? _audio;
    private MediaCodec _describedAudio;
    private int _initVersion;

    /// <summary>Takes a sequence header; true when it replaces different parameters (not the first, nor a repeat).</summary>
    public bool Update(in MediaFrame config)
    {
        ref var previous = ref config.IsVideo ? ref _video : ref _audio;
        var span = config.Span;
        if (previous is not null && span.SequenceEqual(previous))
        {
            return false; // Re-offered after a subscription drop: nothing changes.
        }

        var replaced = previous is not null;
        previous = span.ToArray(); // Once per configuration change, not per frame.
        stream.DescribeTrack(config.IsVideo, CodecStrings.Describe(config.Codec, span));
        if (config.IsAudio)
        {
            _describedAudio = config.Codec;
        }

        return replaced;
    }

    /// <summary>Sees a media frame: describes a track whose codec has no sequence header (MP3) on its first frame.</summary>
    public void See(in MediaFrame frame)
    {
        if (frame.Codec == MediaCodec.Mp3 && _describedAudio != MediaCodec.Mp3)
        {
            _describedAudio = MediaCodec.Mp3;
            stream.DescribeTrack(video: false, CodecStrings.Describe(MediaCodec.Mp3, default));
        }
    }

    /// <summary>
    /// For a container with an initialization segment (fMP4): hands a new one to the stream when the configurations
    /// changed it, and returns the version the next segment needs; 0 for containers without one (MPEG-TS).
    /// </summary>
    public int PublishInitSegment(ISegmentMuxer muxer)
    {
        if (muxer is not IInitSegmentMuxer init || init.InitSegmentVersion == 0)
        {
            return 0;
        }

        if (init.InitSegmentVersion != _initVersion)
        {
            var bytes = new System.Buffers.ArrayBufferWriter<byte>(1024);
            init.WriteInitSegment(bytes);
            _initVersion = init.InitSegmentVersion;
            stream.SetInitSegment(_initVersion, bytes.WrittenSpan.ToArray()); // once per configuration change
        }

        return _initVersion;
    }
}
