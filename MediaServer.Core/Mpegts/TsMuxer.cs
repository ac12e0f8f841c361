// CONTRACT: signatures agreed between the HLS segmenter (caller) and the MPEG-TS layer (implementation).
using System.Buffers;
using MediaServer.Core.Media;

namespace MediaServer.Core.Mpegts;

/// <summary>
/// Our MPEG-TS muxer (ISO/IEC 13818-1): PAT/PMT with CRC-32, PES with PTS/DTS at 90 kHz, PCR on the video
/// PID (audio when audio-only), continuity counters, adaptation-field stuffing; H.264/HEVC as Annex B with
/// AUD and parameter sets before every random access point, AAC with ADTS, MP3 as is.
/// Writes 188-byte packets straight into the caller's <see cref="IBufferWriter{T}"/>.
/// </summary>
public sealed partial class TsMuxer
{
    /// <summary>Codecs this muxer can carry.</summary>
    public static bool IsSupported(MediaCodec codec) =>
        codec is MediaCodec.H264 or MediaCodec.Hevc or MediaCodec.Aac or MediaCodec.Mp3;

    /// <summary>Codec of the video track, or <see cref="MediaCodec.Unknown"/> when there is none (yet).</summary>
    public partial MediaCodec VideoCodec { get; }

    /// <summary>Codec of the audio track, or <see cref="MediaCodec.Unknown"/> when there is none (yet).</summary>
    public partial MediaCodec AudioCodec { get; }

    /// <summary>
    /// Feeds one frame. Config frames update the codec parameters and write nothing. Media frames are written
    /// as PES packets (audio may be held back and packed with the following frames until <see cref="Flush"/>).
    /// Returns false, writing nothing, for a frame that cannot be muxed (unsupported codec, no config yet).
    /// If the track set changed since the last tables, new PAT/PMT (version + 1) are written first.
    /// </summary>
    public partial bool Write(in MediaFrame frame, IBufferWriter<byte> output);

    /// <summary>Writes PAT and PMT for the current track set. Called at the start of every segment.</summary>
    public partial void WriteTables(IBufferWriter<byte> output);

    /// <summary>Writes any audio held back as a PES, so the output written so far is complete.</summary>
    public partial void Flush(IBufferWriter<byte> output);
}
