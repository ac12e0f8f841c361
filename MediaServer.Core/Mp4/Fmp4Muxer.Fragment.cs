using System.Buffers;
using System.Buffers.Binary;

namespace MediaServer.Core.Mp4;

/// <summary>
/// One movie fragment (ISO/IEC 14496-12 §8.8.4-8.8.12): <c>moof</c> with a <c>traf</c> per track that has samples,
/// then one <c>mdat</c> with the video samples followed by the audio samples.
/// </summary>
/// <remarks>
/// <code>
/// moof
///   mfhd   v0  u32 sequence_number (1, 2, 3... per fragment)
///   traf                                                  (video: track 1, then audio: track 2)
///     tfhd v0  flags 0x020000 default-base-is-moof        u32 track_ID
///     tfdt v1  u64 baseMediaDecodeTime (track ticks of the first sample's DTS)
///     trun     video: v1 flags 0x000F01, audio: v0 flags 0x000701
///              u32 sample_count  s32 data_offset (from the moof's first byte to the track's first sample)
///              { u32 duration  u32 size  u32 flags  [video: s32 composition_time_offset] } × sample_count
/// mdat     video samples | audio samples
/// </code>
/// <para>Sample flags (§8.8.3.1): a sync sample is 0x02000000 (sample_depends_on = 2, "does not depend on
/// others"); any other video sample 0x01010000 (sample_depends_on = 1 and sample_is_non_sync_sample), as ffmpeg
/// writes them. Every AAC frame is a sync sample.</para>
/// <para>Durations are the difference of the next sample's and this sample's decode time in ticks. The last sample of
/// a track in a fragment has no successor yet: it gets the duration of the sample before it (carried across
/// fragments), or, for the very first sample, 1/30 s of video or one AAC frame. The next fragment's tfdt is the exact
/// decode time of its first sample whatever that guess was, so a fragment never drifts from the frame timestamps; a
/// wrong guess only moves where the last sample's presentation ends.</para>
/// <para>Composition offsets are the difference of the PTS and DTS in ticks, signed (trun version 1): B-frame
/// streams whose first PTS is below its DTS need no edit list.</para>
/// </remarks>
public sealed partial class Fmp4Muxer
{
    /// <summary>Guess for a first video sample's duration when nothing else is known: 1/30 s at 90 kHz.</summary>
    public const uint DefaultVideoSampleDuration = 3000;

    private const uint TfhdDefaultBaseIsMoof = 0x020000;
    private const uint TrunDataOffset = 0x000001;
    private const uint TrunSampleDuration = 0x000100;
    private const uint TrunSampleSize = 0x000200;
    private const uint TrunSampleFlags = 0x000400;
    private const uint TrunSampleCompositionTimeOffset = 0x000800;
    private const uint SyncSampleFlags = 0x0200_0000;
    private const uint NonSyncSampleFlags = 0x0101_0000;

    private const int MdatHeaderLength = 8;

    private void WriteFragment(IBufferWriter<byte> output)
    {
        if (!HasPendingSamples)
        {
            return;
        }

        var w = _boxes;
        w.Reset();
        var moof = w.BeginBox(Mp4BoxType.Moof);
        var mfhd = w.BeginFullBox(Mp4BoxType.Mfhd, 0, 0);
        w.WriteUInt32(++_sequenceNumber);
        w.EndBox(mfhd);
        var videoOffset = _videoSamples.Count > 0 ? WriteTraf(w, _video!, _videoSamples) : -1;
        var audioOffset = _audioSamples.Count > 0 ? WriteTraf(w, _audio!, _audioSamples) : -1;
        w.EndBox(moof);

        // Data offsets are from the moof's first byte: past the moof and the mdat header, video first.
        var dataStart = w.Length + MdatHeaderLength;
        if (videoOffset >= 0)
        {
            w.PatchUInt32(videoOffset, (uint)dataStart);
        }

        if (audioOffset >= 0)
        {
            w.PatchUInt32(audioOffset, (uint)(dataStart + _videoSamples.Bytes));
        }

        w.CopyTo(output);
        var mdatSize = MdatHeaderLength + _videoSamples.Bytes + _audioSamples.Bytes;
        var header = output.GetSpan(MdatHeaderLength);
        BinaryPrimitives.WriteUInt32BigEndian(header, (uint)mdatSize);
        BinaryPrimitives.WriteUInt32BigEndian(header[4..], (uint)Mp4BoxType.Mdat);
        output.Advance(MdatHeaderLength);
        WriteSamples(output, _videoSamples);
        WriteSamples(output, _audioSamples);
    }

    /// <summary>Writes a traf; returns the position of its trun's data_offset, to be patched.</summary>
    private static int WriteTraf(Mp4BoxWriter w, Fmp4Track track, Fmp4SampleQueue samples)
    {
        var video = track.Kind == Media.MediaKind.Video;
        var timescale = track.Timescale;
        var traf = w.BeginBox(Mp4BoxType.Traf);

        var tfhd = w.BeginFullBox(Mp4BoxType.Tfhd, 0, TfhdDefaultBaseIsMoof);
        w.WriteUInt32((uint)track.TrackId);
        w.EndBox(tfhd);

        var tfdt = w.BeginFullBox(Mp4BoxType.Tfdt, 1, 0);
        w.WriteUInt64((ulong)ToTicks(samples[0].DecodeTime, timescale));
        w.EndBox(tfdt);

        var flags = TrunDataOffset | TrunSampleDuration | TrunSampleSize | TrunSampleFlags | (video ? TrunSampleCompositionTimeOffset : 0);
        var trun = w.BeginFullBox(Mp4BoxType.Trun, video ? (byte)1 : (byte)0, flags);
        w.WriteUInt32((uint)samples.Count);
        var dataOffset = w.ReserveUInt32();
        for (var i = 0; i < samples.Count; i++)
        {
            ref readonly var sample = ref samples[i];
            var decodeTicks = ToTicks(sample.DecodeTime, timescale);
            long duration;
            if (i + 1 < samples.Count)
            {
                duration = ToTicks(samples[i + 1].DecodeTime, timescale) - decodeTicks;
                samples.LastDuration = duration;
            }
            else
            {
                duration = samples.LastDuration >= 0 ? samples.LastDuration : video ? DefaultVideoSampleDuration : track.SamplesPerFrame;
            }

            w.WriteUInt32((uint)duration);
            w.WriteUInt32((uint)sample.Payload.Length);
            w.WriteUInt32(sample.IsSync ? SyncSampleFlags : NonSyncSampleFlags);
            if (video)
            {
                w.WriteInt32((int)(ToTicks(sample.DecodeTime + sample.CompositionTime, timescale) - decodeTicks));
            }
        }

        w.EndBox(trun);
        w.EndBox(traf);
        return dataOffset;
    }

    private static void WriteSamples(IBufferWriter<byte> output, Fmp4SampleQueue samples)
    {
        for (var i = 0; i < samples.Count; i++)
        {
            var payload = samples[i].Payload.Memory.Span;
            payload.CopyTo(output.GetSpan(payload.Length));
            output.Advance(payload.Length);
        }

        samples.Clear();
    }
}
