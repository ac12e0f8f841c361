namespace MediaServer.Host.Restream;

/// <summary>Where one restream target stands.</summary>
public enum RestreamState
{
    /// <summary>The livestream is not live (no worker runs for the target).</summary>
    Idle,

    /// <summary>Connecting, or waiting to reconnect after an error.</summary>
    Connecting,

    /// <summary>Publishing: the target accepted the stream and frames flow.</summary>
    Live,

    /// <summary>The last attempt failed (see the error text); the worker retries with backoff unless the error is permanent.</summary>
    Error,
}

/// <summary>A snapshot of one target's state, as the livestreams API shows it (never the stream key).</summary>
/// <param name="Url">The target's server URL, as configured.</param>
/// <param name="State"><c>idle</c>, <c>connecting</c>, <c>live</c> or <c>error</c>.</param>
/// <param name="LastError">The most recent failure, kept after a successful reconnect.</param>
/// <param name="LastErrorAt">When it happened.</param>
/// <param name="Reconnects">Connection attempts after the first, since the stream went live.</param>
/// <param name="LiveSince">When the current publish started (state <c>live</c>).</param>
/// <param name="DroppedFrames">Frames skipped because the target fell behind (the hub drops to the next keyframe).</param>
public sealed record RestreamTargetStatus(
    string Url,
    string State,
    string? LastError,
    DateTimeOffset? LastErrorAt,
    int Reconnects,
    DateTimeOffset? LiveSince,
    long DroppedFrames)
{
    public static RestreamTargetStatus Idle(string url) => new(url, "idle", null, null, 0, null, 0);

    public static string Name(RestreamState state) => state switch
    {
        RestreamState.Connecting => "connecting",
        RestreamState.Live => "live",
        RestreamState.Error => "error",
        _ => "idle",
    };
}
