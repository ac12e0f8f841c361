// PLACEHOLDER implementation of the TsMuxer contract in TsMuxer.cs: replaced by the MPEG-TS work.
using System.Buffers;
using MediaServer.Core.Media;

namespace MediaServer.Core.Mpegts;

public sealed partial class TsMuxer
{
    private readonly MediaCodec _video = MediaCodec.Unknown;
    private readonly MediaCodec _audio = MediaCodec.Unknown;

    public partial MediaCodec VideoCodec => _video;

    public partial MediaCodec AudioCodec => _audio;

    public partial bool Write(in MediaFrame frame, IBufferWriter<byte> output) => throw new NotImplementedException();

    public partial void WriteTables(IBufferWriter<byte> output) => throw new NotImplementedException();

    public partial void Flush(IBufferWriter<byte> output) => throw new NotImplementedException();
}
