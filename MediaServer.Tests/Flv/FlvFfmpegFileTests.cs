using System.Buffers;
using MediaServer.Core.Flv;
using MediaServer.Core.Media;
using MediaServer.Tests.Infrastructure;

namespace MediaServer.Tests.Flv;

/// <summary>Reads FLV files written by ffmpeg (an independent muxer) through FlvFileReader + FlvDemuxer.</summary>
public class FlvFfmpegFileTests
{
    private sealed record DemuxedTag(FlvTagType Type, byte[] Body, MediaFrame Frame);

    private static List<DemuxedTag> ReadAll(string path, out FlvFileHeader header)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(File.ReadAllBytes(path)));
        Assert.That(FlvFileReader.TryReadHeader(ref reader, out header), Is.True, "header");
        var tags = new List<DemuxedTag>();
        while (FlvFileReader.TryReadTag(ref reader, out var tag))
        {
            var body = tag.Body.ToArray();
            var status = FlvDemuxer.Demux(tag.Type, tag.Timestamp, body, out var frame, out var unsupported);
            Assert.That(status, Is.EqualTo(FlvDemuxStatus.Frame), $"tag {tags.Count} ({tag.Type}, {unsupported})");
            tags.Add(new DemuxedTag(tag.Type, body, frame));
        }

        Assert.That(reader.End, Is.True, "trailing bytes after the last tag");
        return tags;
    }

    private static void Release(List<DemuxedTag> tags)
    {
        foreach (var tag in tags)
        {
            tag.Frame.Payload.Release();
        }
    }

    [Test]
    public void H264AacFile_EveryTag_DemuxesAsEncoded()
    {
        var tags = ReadAll(TestMedia.H264AacFlv, out var header);
        try
        {
            var video = tags.Where(t => t.Frame.IsVideo).Select(t => t.Frame).ToList();
            var audio = tags.Where(t => t.Frame.IsAudio).Select(t => t.Frame).ToList();
            var media = video.Where(f => !f.IsConfig && (f.Flags & FrameFlags.EndOfSequence) == 0).ToList();

            Assert.Multiple(() =>
            {
                Assert.That(header.HasAudio && header.HasVideo, Is.True);

                // ffmpeg writes onMetaData first (no @setDataFrame in files).
                Assert.That(tags[0].Frame.Kind, Is.EqualTo(MediaKind.Data));
                Assert.That(tags[0].Frame.Span[3..13].ToArray(), Is.EqualTo("onMetaData"u8.ToArray()));

                Assert.That(video[0].Codec, Is.EqualTo(MediaCodec.H264));
                Assert.That(video[0].Flags, Is.EqualTo(FrameFlags.Keyframe | FrameFlags.Config));
                Assert.That(video[0].Span[0], Is.EqualTo(1), "AVCDecoderConfigurationRecord version");
                Assert.That(video[0].Span[1], Is.EqualTo(100), "High profile");
                Assert.That(video.Skip(1).Count(f => f.IsConfig), Is.Zero);

                // 2 s at 30 fps with -g 30 and no scene cuts: keyframes exactly at frames 0 and 30.
                Assert.That(media, Has.Count.EqualTo(60));
                Assert.That(media.Select((f, i) => f.IsKeyframe == (i % 30 == 0)), Is.All.True);

                // B-frames: composition offsets are never negative here and some are positive.
                Assert.That(media.Select(f => f.CompositionTime), Is.All.GreaterThanOrEqualTo(0));
                Assert.That(media.Count(f => f.CompositionTime > 0), Is.GreaterThan(10));
                Assert.That(media.All(f => f.Payload.Length > 4), Is.True);

                // ffmpeg ends the stream with an AVC end of sequence.
                Assert.That(video[^1].Flags & FrameFlags.EndOfSequence, Is.EqualTo(FrameFlags.EndOfSequence));

                Assert.That(audio[0].Codec, Is.EqualTo(MediaCodec.Aac));
                Assert.That(audio[0].Flags, Is.EqualTo(FrameFlags.Config));
                Assert.That(audio[0].Span.Length, Is.GreaterThanOrEqualTo(2), "AudioSpecificConfig");
                Assert.That(audio.Skip(1).Select(f => f.Flags), Is.All.EqualTo(FrameFlags.None));
                Assert.That(audio.Count, Is.GreaterThan(80), "about 86 AAC frames in 2 s at 44.1 kHz");

                Assert.That(IsNonDecreasing(video.Select(f => f.Timestamp)), Is.True, "video DTS");
                Assert.That(IsNonDecreasing(media.Select(f => f.Timestamp)) && media.Select(f => f.Timestamp).Distinct().Count() == media.Count, Is.True, "video DTS strictly increasing");
                Assert.That(IsNonDecreasing(audio.Select(f => f.Timestamp)), Is.True, "audio DTS");
            });
        }
        finally
        {
            Release(tags);
        }
    }

    [Test]
    public void H264AacFile_VideoTags_RemuxToFfmpegsExactBytes()
    {
        var tags = ReadAll(TestMedia.H264AacFlv, out _);
        try
        {
            var output = new ArrayBufferWriter<byte>();
            foreach (var tag in tags.Where(t => t.Type == FlvTagType.Video))
            {
                output.ResetWrittenCount();
                FlvMuxer.WriteTagBody(tag.Frame, output);
                Assert.That(Hex.Format(output.WrittenSpan), Is.EqualTo(Hex.Format(tag.Body)));
            }
        }
        finally
        {
            Release(tags);
        }
    }

    [Test]
    public void H264AacFile_RewrittenWithFlvFileWriter_ReadsBackSameFrames()
    {
        var tags = ReadAll(TestMedia.H264AacFlv, out _);
        var path = Path.Combine(TestMedia.CacheDirectory, $"rewrite-{Guid.NewGuid():N}.flv");
        try
        {
            var output = new ArrayBufferWriter<byte>();
            FlvFileWriter.WriteHeader(output, hasAudio: true, hasVideo: true);
            foreach (var tag in tags)
            {
                FlvFileWriter.WriteFrame(output, tag.Frame);
            }

            File.WriteAllBytes(path, output.WrittenSpan.ToArray());
            var reread = ReadAll(path, out _);
            try
            {
                Assert.That(reread, Has.Count.EqualTo(tags.Count));
                for (var i = 0; i < tags.Count; i++)
                {
                    var (a, b) = (tags[i].Frame, reread[i].Frame);
                    Assert.That(
                        (b.Kind, b.Codec, b.Flags, b.Timestamp, b.CompositionTime, Hex.Format(b.Span)),
                        Is.EqualTo((a.Kind, a.Codec, a.Flags, a.Timestamp, a.CompositionTime, Hex.Format(a.Span))),
                        $"frame {i}");
                }
            }
            finally
            {
                Release(reread);
            }
        }
        finally
        {
            Release(tags);
            File.Delete(path);
        }
    }

    [Test]
    public void Mp3File_EveryAudioTag_IsAnMp3Frame()
    {
        var tags = ReadAll(TestMedia.Mp3Flv, out var header);
        try
        {
            var audio = tags.Where(t => t.Frame.IsAudio).Select(t => t.Frame).ToList();

            Assert.That(header.HasAudio, Is.True);
            Assert.That(audio, Has.Count.GreaterThan(50), "about 77 MP3 frames in 2 s");
            Assert.That(audio.Select(f => (f.Codec, f.Flags)), Is.All.EqualTo((MediaCodec.Mp3, FrameFlags.None)));

            // Every payload starts with an MPEG audio frame sync (11 set bits).
            Assert.That(audio.Select(f => f.Span[0] == 0xFF && (f.Span[1] & 0xE0) == 0xE0), Is.All.True);
            Assert.That(IsNonDecreasing(audio.Select(f => f.Timestamp)), Is.True);
        }
        finally
        {
            Release(tags);
        }
    }

    // ffmpeg 5.1 cannot write HEVC into FLV: this file is x265's stream in an FLV of our own making (HevcFlvBuilder),
    // checked against ffmpeg's .mp4 of the same encode in HevcFlvFileTests.
    [Test]
    public void HevcAacFile_FirstVideoFrame_IsHevcConfig()
    {
        var tags = ReadAll(TestMedia.HevcAacFlv, out _);
        try
        {
            var video = tags.Where(t => t.Frame.IsVideo).Select(t => t.Frame).ToList();

            Assert.That(video[0].Codec, Is.EqualTo(MediaCodec.Hevc));
            Assert.That(video[0].Flags, Is.EqualTo(FrameFlags.Keyframe | FrameFlags.Config));
            Assert.That(video.Where(f => !f.IsConfig && (f.Flags & FrameFlags.EndOfSequence) == 0).Count(f => f.IsKeyframe), Is.EqualTo(2));
        }
        finally
        {
            Release(tags);
        }
    }

    private static bool IsNonDecreasing(IEnumerable<long> values)
    {
        var previous = long.MinValue;
        foreach (var value in values)
        {
            if (value < previous)
            {
                return false;
            }

            previous = value;
        }

        return true;
    }
}
