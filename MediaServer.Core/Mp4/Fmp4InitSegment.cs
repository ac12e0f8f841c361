using System.Buffers;
using MediaServer.Core.Media;

namespace MediaServer.Core.Mp4;

/// <summary>
/// The fMP4 initialization segment (the resource of HLS <c>EXT-X-MAP</c>, rfc8216bis §3.1.2): <c>ftyp</c> and a
/// <c>moov</c> whose tracks have empty sample tables and a <c>trex</c> each, so all samples come in fragments.
/// </summary>
/// <remarks>
/// <code>
/// ftyp  major 'iso6' minor 0, compatible 'iso6' 'mp41'
/// moov
///   mvhd                       v0, timescale 1000, duration 0, next_track_ID
///   trak (video, id 1)
///     tkhd                     v0, flags 3 (enabled, in movie), width/height 16.16 from the SPS
///     mdia
///       mdhd                   v0, timescale 90000, language 'und'
///       hdlr                   'vide' "VideoHandler"
///       minf  vmhd  dinf/dref/'url ' (self-contained)
///             stbl  stsd/avc1+avcC | stsd/hvc1+hvcC   stts stsc stsz stco (empty)
///   trak (audio, id 2)         as above with volume 1.0, 'soun', smhd, stsd/mp4a+esds
///   mvex  trex × tracks        default_sample_description_index 1, other defaults 0
/// </code>
/// <para>Brands: 'iso6' because fragments use <c>tfdt</c> and <c>trun</c> version 1 (signed composition offsets),
/// which need at least 'iso4'/'iso6' readers (ISO/IEC 14496-12 Annex E), and 'mp41' for MP4 (14496-14) sample entries
/// such as <c>esds</c>. Not 'cmfc': CMAF (ISO/IEC 23000-19) allows one track per file, while our fragments carry video
/// and audio together, as an HLS fMP4 rendition with muxed audio does.</para>
/// <para>Sample entries: 'avc1'/'hvc1' (parameter sets in the record; encoders that repeat them in-band still decode,
/// as with ffmpeg's own mp4 output). mp4a: channel count from the AudioSpecificConfig, sample size 16, sample rate
/// 16.16 (0 when above 65535, as ffmpeg does); esds with objectTypeIndication 0x40 (MPEG-4 Audio), streamType 5,
/// bitrates 0 (unknown) and the AudioSpecificConfig as DecSpecificInfo.</para>
/// </remarks>
public static class Fmp4InitSegment
{
    /// <summary>Movie timescale (mvhd); the movie has no duration, so only ms-accurate edit-free playback cares.</summary>
    public const uint MovieTimescale = 1000;

    private const uint TrackEnabledInMovie = 0x000003;
    private const uint UrlSelfContained = 0x000001;
    private const ushort LanguageUndetermined = 0x55C4; // 'und' packed as three 5-bit letters minus 0x60

    // 14496-1 §7.2.2.1 descriptor tags and §7.2.6.6 values.
    private const byte EsDescriptorTag = 0x03;
    private const byte DecoderConfigDescriptorTag = 0x04;
    private const byte DecSpecificInfoTag = 0x05;
    private const byte SlConfigDescriptorTag = 0x06;
    private const byte ObjectTypeMpeg4Audio = 0x40;
    private const byte StreamTypeAudio = 0x05;
    private const byte SlPredefinedMp4 = 0x02;

    private static ReadOnlySpan<byte> VideoHandlerName => "VideoHandler\0"u8;

    private static ReadOnlySpan<byte> SoundHandlerName => "SoundHandler\0"u8;

    /// <summary>Writes an init segment for the tracks given (at least one).</summary>
    public static void Write(IBufferWriter<byte> output, Fmp4Track? video, Fmp4Track? audio)
    {
        ArgumentNullException.ThrowIfNull(output);
        using var boxes = new Mp4BoxWriter(1024);
        Write(boxes, video, audio);
        boxes.CopyTo(output);
    }

    internal static void Write(Mp4BoxWriter w, Fmp4Track? video, Fmp4Track? audio)
    {
        if (video is null && audio is null)
        {
            throw new InvalidOperationException("An init segment needs at least one track.");
        }

        if (video is { Kind: not MediaKind.Video } || audio is { Kind: not MediaKind.Audio })
        {
            throw new ArgumentException("Video and audio tracks swapped.");
        }

        var ftyp = w.BeginBox(Mp4BoxType.Ftyp);
        w.WriteFourCc(Mp4BoxType.BrandIso6);
        w.WriteUInt32(0); // minor_version
        w.WriteFourCc(Mp4BoxType.BrandIso6);
        w.WriteFourCc(Mp4BoxType.BrandMp41);
        w.EndBox(ftyp);

        var moov = w.BeginBox(Mp4BoxType.Moov);
        WriteMvhd(w, (audio ?? video)!.TrackId + 1);
        if (video is not null)
        {
            WriteTrak(w, video);
        }

        if (audio is not null)
        {
            WriteTrak(w, audio);
        }

        var mvex = w.BeginBox(Mp4BoxType.Mvex);
        if (video is not null)
        {
            WriteTrex(w, video.TrackId);
        }

        if (audio is not null)
        {
            WriteTrex(w, audio.TrackId);
        }

        w.EndBox(mvex);
        w.EndBox(moov);
    }

    private static void WriteMvhd(Mp4BoxWriter w, int nextTrackId)
    {
        var box = w.BeginFullBox(Mp4BoxType.Mvhd, 0, 0);
        w.WriteUInt32(0); // creation_time
        w.WriteUInt32(0); // modification_time
        w.WriteUInt32(MovieTimescale);
        w.WriteUInt32(0); // duration: unknown (fragmented)
        w.WriteUInt32(0x0001_0000); // rate 1.0
        w.WriteUInt16(0x0100); // volume 1.0
        w.WriteZeros(2 + 8); // reserved
        WriteUnityMatrix(w);
        w.WriteZeros(6 * 4); // pre_defined
        w.WriteUInt32((uint)nextTrackId);
        w.EndBox(box);
    }

    private static void WriteTrak(Mp4BoxWriter w, Fmp4Track track)
    {
        var video = track.Kind == MediaKind.Video;
        var trak = w.BeginBox(Mp4BoxType.Trak);

        var tkhd = w.BeginFullBox(Mp4BoxType.Tkhd, 0, TrackEnabledInMovie);
        w.WriteUInt32(0); // creation_time
        w.WriteUInt32(0); // modification_time
        w.WriteUInt32((uint)track.TrackId);
        w.WriteUInt32(0); // reserved
        w.WriteUInt32(0); // duration
        w.WriteZeros(8); // reserved
        w.WriteUInt16(0); // layer
        w.WriteUInt16(0); // alternate_group
        w.WriteUInt16(video ? (ushort)0 : (ushort)0x0100); // volume
        w.WriteUInt16(0); // reserved
        WriteUnityMatrix(w);
        w.WriteUInt32((uint)track.Width << 16); // width 16.16
        w.WriteUInt32((uint)track.Height << 16); // height 16.16
        w.EndBox(tkhd);

        var mdia = w.BeginBox(Mp4BoxType.Mdia);
        var mdhd = w.BeginFullBox(Mp4BoxType.Mdhd, 0, 0);
        w.WriteUInt32(0); // creation_time
        w.WriteUInt32(0); // modification_time
        w.WriteUInt32(track.Timescale);
        w.WriteUInt32(0); // duration
        w.WriteUInt16(LanguageUndetermined);
        w.WriteUInt16(0); // pre_defined
        w.EndBox(mdhd);

        var hdlr = w.BeginFullBox(Mp4BoxType.Hdlr, 0, 0);
        w.WriteUInt32(0); // pre_defined
        w.WriteFourCc(video ? Mp4BoxType.HandlerVideo : Mp4BoxType.HandlerSound);
        w.WriteZeros(12); // reserved
        w.WriteBytes(video ? VideoHandlerName : SoundHandlerName);
        w.EndBox(hdlr);

        var minf = w.BeginBox(Mp4BoxType.Minf);
        if (video)
        {
            var vmhd = w.BeginFullBox(Mp4BoxType.Vmhd, 0, 1);
            w.WriteZeros(2 + 6); // graphicsmode, opcolor
            w.EndBox(vmhd);
        }
        else
        {
            var smhd = w.BeginFullBox(Mp4BoxType.Smhd, 0, 0);
            w.WriteZeros(2 + 2); // balance, reserved
            w.EndBox(smhd);
        }

        var dinf = w.BeginBox(Mp4BoxType.Dinf);
        var dref = w.BeginFullBox(Mp4BoxType.Dref, 0, 0);
        w.WriteUInt32(1); // entry_count
        w.EndBox(w.BeginFullBox(Mp4BoxType.Url, 0, UrlSelfContained));
        w.EndBox(dref);
        w.EndBox(dinf);

        var stbl = w.BeginBox(Mp4BoxType.Stbl);
        var stsd = w.BeginFullBox(Mp4BoxType.Stsd, 0, 0);
        w.WriteUInt32(1); // entry_count
        if (video)
        {
            WriteVisualSampleEntry(w, track);
        }
        else
        {
            WriteAudioSampleEntry(w, track);
        }

        w.EndBox(stsd);
        WriteEmptyTable(w, Mp4BoxType.Stts);
        WriteEmptyTable(w, Mp4BoxType.Stsc);
        var stsz = w.BeginFullBox(Mp4BoxType.Stsz, 0, 0);
        w.WriteUInt32(0); // sample_size
        w.WriteUInt32(0); // sample_count
        w.EndBox(stsz);
        WriteEmptyTable(w, Mp4BoxType.Stco);
        w.EndBox(stbl);

        w.EndBox(minf);
        w.EndBox(mdia);
        w.EndBox(trak);
    }

    // ISO/IEC 14496-12 §12.1.3 VisualSampleEntry, then avcC/hvcC (14496-15 §5.4.2.1, §8.4.1.1).
    private static void WriteVisualSampleEntry(Mp4BoxWriter w, Fmp4Track track)
    {
        var entry = w.BeginBox(track.Codec == MediaCodec.H264 ? Mp4BoxType.Avc1 : Mp4BoxType.Hvc1);
        w.WriteZeros(6); // reserved
        w.WriteUInt16(1); // data_reference_index
        w.WriteZeros(2 + 2 + 12); // pre_defined, reserved, pre_defined
        w.WriteUInt16((ushort)track.Width);
        w.WriteUInt16((ushort)track.Height);
        w.WriteUInt32(0x0048_0000); // horizresolution 72 dpi
        w.WriteUInt32(0x0048_0000); // vertresolution 72 dpi
        w.WriteUInt32(0); // reserved
        w.WriteUInt16(1); // frame_count
        w.WriteZeros(32); // compressorname (empty Pascal string)
        w.WriteUInt16(0x0018); // depth: colour, no alpha
        w.WriteUInt16(0xFFFF); // pre_defined = -1
        var config = w.BeginBox(track.Codec == MediaCodec.H264 ? Mp4BoxType.AvcC : Mp4BoxType.HvcC);
        w.WriteBytes(track.DecoderConfig);
        w.EndBox(config);
        w.EndBox(entry);
    }

    // ISO/IEC 14496-12 §12.2.3 AudioSampleEntry (v0), then esds (14496-14 §5.6.1) holding an ES_Descriptor
    // (14496-1 §7.2.6.5): ES_ID 0 (as stored in a file), DecoderConfigDescriptor, SLConfigDescriptor predefined 2.
    private static void WriteAudioSampleEntry(Mp4BoxWriter w, Fmp4Track track)
    {
        var entry = w.BeginBox(Mp4BoxType.Mp4a);
        w.WriteZeros(6); // reserved
        w.WriteUInt16(1); // data_reference_index
        w.WriteZeros(8); // reserved
        w.WriteUInt16((ushort)track.ChannelCount);
        w.WriteUInt16(16); // samplesize
        w.WriteUInt16(0); // pre_defined
        w.WriteUInt16(0); // reserved
        w.WriteUInt32(track.Timescale <= ushort.MaxValue ? track.Timescale << 16 : 0); // samplerate 16.16

        var esds = w.BeginFullBox(Mp4BoxType.Esds, 0, 0);
        var asc = track.DecoderConfig;
        var decSpecificInfo = DescriptorSize(asc.Length);
        var decoderConfig = DescriptorSize(13 + decSpecificInfo);
        var slConfig = DescriptorSize(1);
        WriteDescriptorHeader(w, EsDescriptorTag, 3 + decoderConfig + slConfig);
        w.WriteUInt16(0); // ES_ID
        w.WriteUInt8(0); // streamDependenceFlag, URL_Flag, OCRstreamFlag, streamPriority
        WriteDescriptorHeader(w, DecoderConfigDescriptorTag, 13 + decSpecificInfo);
        w.WriteUInt8(ObjectTypeMpeg4Audio);
        w.WriteUInt8((StreamTypeAudio << 2) | 0x01); // streamType, upStream 0, reserved 1
        w.WriteZeros(3); // bufferSizeDB
        w.WriteUInt32(0); // maxBitrate
        w.WriteUInt32(0); // avgBitrate
        WriteDescriptorHeader(w, DecSpecificInfoTag, asc.Length);
        w.WriteBytes(asc);
        WriteDescriptorHeader(w, SlConfigDescriptorTag, 1);
        w.WriteUInt8(SlPredefinedMp4);
        w.EndBox(esds);
        w.EndBox(entry);
    }

    private static void WriteEmptyTable(Mp4BoxWriter w, Mp4BoxType type)
    {
        var box = w.BeginFullBox(type, 0, 0);
        w.WriteUInt32(0); // entry_count
        w.EndBox(box);
    }

    private static void WriteTrex(Mp4BoxWriter w, int trackId)
    {
        var box = w.BeginFullBox(Mp4BoxType.Trex, 0, 0);
        w.WriteUInt32((uint)trackId);
        w.WriteUInt32(1); // default_sample_description_index
        w.WriteUInt32(0); // default_sample_duration
        w.WriteUInt32(0); // default_sample_size
        w.WriteUInt32(0); // default_sample_flags
        w.EndBox(box);
    }

    private static void WriteUnityMatrix(Mp4BoxWriter w)
    {
        w.WriteUInt32(0x0001_0000);
        w.WriteZeros(4 * 3);
        w.WriteUInt32(0x0001_0000);
        w.WriteZeros(4 * 3);
        w.WriteUInt32(0x4000_0000);
    }

    // 14496-1 §8.3.3 expandable size: 7 bits per byte, high bit = more follows; the shortest form is written.
    private static int DescriptorSize(int payload) => 1 + SizeFieldLength(payload) + payload;

    private static int SizeFieldLength(int size) => size < 0x80 ? 1 : size < 0x4000 ? 2 : size < 0x20_0000 ? 3 : 4;

    private static void WriteDescriptorHeader(Mp4BoxWriter w, byte tag, int size)
    {
        w.WriteUInt8(tag);
        for (var shift = 7 * (SizeFieldLength(size) - 1); shift > 0; shift -= 7)
        {
            w.WriteUInt8((byte)(0x80 | ((size >> shift) & 0x7F)));
        }

        w.WriteUInt8((byte)(size & 0x7F));
    }
}
