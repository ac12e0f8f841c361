namespace MediaServer.Core.Streams;

/// <summary>What a client asked for: the RTMP app, the stream name (key) and where it comes from.</summary>
/// <param name="App">The RTMP application, e.g. <c>live</c> (from connect's <c>app</c>, without query).</param>
/// <param name="Name">The stream name given to publish/play, without any <c>?query</c>.</param>
/// <param name="Query">The query string that came with the stream name or the app, without '?', or null.</param>
/// <param name="RemoteAddress">The client's address, for rate limits and logs.</param>
public readonly record struct StreamRequest(string App, string Name, string? Query, string? RemoteAddress);

/// <summary>Why a publish or play was refused; maps to the onStatus code the client sees.</summary>
public enum StreamRefusal
{
    None = 0,

    /// <summary><c>NetStream.Publish.BadName</c> / <c>NetStream.Play.StreamNotFound</c>: no such app or key.</summary>
    BadName = 1,

    /// <summary><c>NetStream.Publish.Unauthorized</c>: the key exists but may not be used now (disabled, rate-limited).</summary>
    Unauthorized = 2,
}

/// <summary>The answer of an <see cref="IStreamResolver"/>.</summary>
public readonly record struct StreamResolution(string? StreamId, StreamRefusal Refusal, string? Message)
{
    public bool IsAccepted => Refusal == StreamRefusal.None && StreamId is not null;

    public static StreamResolution Accept(string streamId) => new(streamId, StreamRefusal.None, null);

    public static StreamResolution Refuse(StreamRefusal refusal, string message) => new(null, refusal, message);
}

/// <summary>
/// The one seam for stream identity: maps an RTMP app + stream key (publish) or app + name (play) to a
/// stream id in the <see cref="StreamHub"/>, or refuses it.
/// </summary>
public interface IStreamResolver
{
    ValueTask<StreamResolution> ResolvePublishAsync(StreamRequest request, CancellationToken cancellationToken);

    ValueTask<StreamResolution> ResolvePlayAsync(StreamRequest request, CancellationToken cancellationToken);
}

/// <summary>
/// Default resolver: any key under the app <c>live</c> publishes, and the key is the stream id.
/// </summary>
public sealed class OpenStreamResolver : IStreamResolver
{
    public const string LiveApp = "live";

    public ValueTask<StreamResolution> ResolvePublishAsync(StreamRequest request, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Resolve(request));

    public ValueTask<StreamResolution> ResolvePlayAsync(StreamRequest request, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Resolve(request));

    private static StreamResolution Resolve(StreamRequest request)
    {
        if (!string.Equals(request.App, LiveApp, StringComparison.Ordinal))
        {
            return StreamResolution.Refuse(StreamRefusal.BadName, $"Unknown application '{StreamKeyHash.AppForLog(request.App)}'; use '{LiveApp}'.");
        }

        if (!IsValidStreamId(request.Name))
        {
            return StreamResolution.Refuse(StreamRefusal.BadName, "Stream keys are 1-128 characters of letters, digits, '-', '_' and '.'.");
        }

        return StreamResolution.Accept(request.Name);
    }

    /// <summary>Stream ids appear in URLs and file names: keep them to a safe alphabet.</summary>
    public static bool IsValidStreamId(string name)
    {
        if (name.Length is 0 or > 128 || name[0] == '.')
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                return false;
            }
        }

        return true;
    }
}
