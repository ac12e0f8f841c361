using MediaServer.Core.Media;

namespace MediaServer.Core.Streams;

/// <summary>
/// A consumer of a <see cref="LiveStream"/> that runs on the publisher's own thread, in publish order, with no
/// queue and no thread hop (<see cref="LiveStream.AddSink"/>). For in-memory work that never blocks and never
/// throws, such as HLS segmenting; anything that waits on a network or a disk takes a <see cref="Subscription"/>,
/// whose bounded queue keeps a slow consumer from slowing the publisher.
/// </summary>
public interface IFrameSink
{
    /// <summary>
    /// One frame, called with the stream's lock held. The caller keeps its reference on the payload: a sink that
    /// keeps the frame adds its own.
    /// </summary>
    void OnFrame(in MediaFrame frame);

    /// <summary>The stream ended; called once, without the stream's lock, after the last <see cref="OnFrame"/>.</summary>
    void OnEnded();
}
