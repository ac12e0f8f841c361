namespace MediaServer.Core.Streams;

/// <summary>Limits of the publish/subscribe hub.</summary>
public sealed class StreamHubOptions
{
    /// <summary>Frames a subscriber may have queued before it starts dropping to the next keyframe.
    /// 1024 frames is ~10 s of 30 fps video plus 44.1 kHz AAC: a consumer that far behind is not catching up.</summary>
    public int SubscriberQueueCapacity { get; set; } = 1024;

    /// <summary>Upper bound on the cached group of pictures (frames). A stream whose keyframe interval is
    /// longer than this stops caching until the next keyframe rather than growing without limit.</summary>
    public int MaxGopCacheFrames { get; set; } = 4096;

    /// <summary>
    /// How long a stream whose publisher dropped (connection lost, no unpublish) stays live waiting for the
    /// encoder to reconnect with the same key. A clean unpublish ends the stream at once. Zero disables it.
    /// </summary>
    public TimeSpan ReconnectWindow { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Upper bound on the cached group of pictures (payload bytes): 64 MiB holds a 10 s GOP at 50 Mbit/s.</summary>
    public long MaxGopCacheBytes { get; set; } = 64L * 1024 * 1024;
}
