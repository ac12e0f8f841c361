using MediaServer.Fuzzing.Targets;

namespace MediaServer.Fuzzing;

/// <summary>Every fuzz target, by name. The corpus of target <c>x</c> is <c>Corpus/x/</c>.</summary>
public static class FuzzTargets
{
    private const long MiB = 1024 * 1024;

    public static IReadOnlyList<FuzzTarget> All { get; } =
    [
        new("handshake", "RTMP handshake, server (C0/C1/C2) and client (S0/S1) side, digest schemas", HandshakeTarget.Run, 1 * MiB),

        // A lying message length rents up to the 16 MiB wire maximum, and all chunk streams together at most
        // ChunkStreamReader.MaxPendingBytes (64 MiB) — bounded by named limits, not by what the peer claims.
        new("chunk", "RTMP chunk stream: basic/message headers, Set Chunk Size, Abort, protocol control", ChunkStreamTarget.Run, 96 * MiB),
        new("amf0", "AMF0 values and RTMP commands (AMF0 and AMF3-wrapped)", Amf0Target.Run, 4 * MiB),
        new("flv", "FLV tag bodies (legacy and Enhanced RTMP) and FLV files", FlvTarget.Run, 4 * MiB),
        new("avc", "AVCDecoderConfigurationRecord and H.264 SPS", AvcTarget.Run, 4 * MiB),
        new("hevc", "HEVCDecoderConfigurationRecord", HevcTarget.Run, 4 * MiB),
        new("aac", "AAC AudioSpecificConfig and ADTS headers", AacTarget.Run, 1 * MiB),
        new("hls-query", "HLS segment names and playback queries carried into playlists; RTMP name?query", HlsQueryTarget.Run, 1 * MiB),
    ];

    public static FuzzTarget? Find(string name)
    {
        foreach (var target in All)
        {
            if (string.Equals(target.Name, name, StringComparison.Ordinal))
            {
                return target;
            }
        }

        return null;
    }
}
