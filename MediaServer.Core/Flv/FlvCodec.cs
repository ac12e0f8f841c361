// PLACEHOLDER implementation of the FLV contract in FlvTag.cs: replaced by the FLV work.
using System.Buffers;
using MediaServer.Core.Media;

namespace MediaServer.Core.Flv;

public static partial class FlvDemuxer
{
    public static partial FlvDemuxStatus Demux(FlvTagType type, long timestamp, ReadOnlySpan<byte> body, out MediaFrame frame, out string? unsupportedCodec) =>
        throw new NotImplementedException();
}

public static partial class FlvMuxer
{
    public static partial int GetTagBodyLength(in MediaFrame frame) => throw new NotImplementedException();

    public static partial void WriteTagBody(in MediaFrame frame, IBufferWriter<byte> output) => throw new NotImplementedException();
}
