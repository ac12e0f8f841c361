namespace MediaServer.Hls.Segmenting;

/// <summary>Creates one <see cref="ISegmentMuxer"/> per stream.</summary>
public interface ISegmentMuxerFactory
{
    ISegmentMuxer Create();
}

/// <summary>The default factory: MPEG-TS.</summary>
public sealed class TsSegmentMuxerFactory : ISegmentMuxerFactory
{
    public ISegmentMuxer Create() => new TsSegmentMuxer();
}
