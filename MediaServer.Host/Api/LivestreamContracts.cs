using System.Text.Json;
using System.Text.Json.Serialization;
using MediaServer.Host.Data;
using MediaServer.Host.Restream;

namespace MediaServer.Host.Api;

/// <summary>Body of <c>POST /v1/livestreams</c> and <c>PATCH /v1/livestreams/{id}</c> (absent fields are left as they are on PATCH).</summary>
public sealed class LivestreamRequest
{
    public string? Name { get; set; }

    public bool? Record { get; set; }

    public List<RestreamTargetDto>? Restream { get; set; }

    /// <summary><c>public</c> (default: the playback id is the secret) or <c>signed</c> (playback needs an access token).</summary>
    public string? PlaybackPolicy { get; set; }

    /// <summary>Limits of each recording session; on PATCH an object given replaces them all (<c>{}</c>: no limits).</summary>
    public RecordingLimitsDto? RecordingLimits { get; set; }
}

/// <summary>
/// <c>recordingLimits</c>: <c>maxDurationSeconds</c> and <c>maxBytes</c> per session (reached: the recording stops
/// with status <c>stopped</c>, the live stream goes on), <c>retentionDays</c> (finished sessions older than this are
/// deleted). Absent or null: no limit.
/// </summary>
public sealed class RecordingLimitsDto
{
    public long? MaxDurationSeconds { get; set; }

    public long? MaxBytes { get; set; }

    public int? RetentionDays { get; set; }
}

public sealed class RestreamTargetDto
{
    public string? Url { get; set; }

    public string? StreamKey { get; set; }
}

/// <summary>
/// A livestream as the product page shows it, plus our own fields. <c>restreamStatus[i]</c> is the state of
/// <c>restream[i]</c>: <c>idle</c> (not live), <c>connecting</c>, <c>live</c> or <c>error</c> with the last error.
/// <c>rtmpPlaybackUrl</c> plays the live stream over RTMP by playback id; for a <c>signed</c> livestream it ends in
/// <c>?token=</c>, to which the client appends an access token of the owning API key.
/// </summary>
public sealed record LivestreamResponse(
    string Id,
    string Name,
    bool Record,
    string StreamKey,
    string StreamUrl,
    string UpstreamUrl,
    string DownstreamUrl,
    string RecordingUrl,
    string RtmpPlaybackUrl,
    IReadOnlyList<RestreamTarget> Restream,
    IReadOnlyList<RestreamTargetStatus> RestreamStatus,
    string PlaybackId,
    string PlaybackPolicy,
    bool Enabled,
    string Status,
    IReadOnlyDictionary<string, string>? Diagnostics,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    long Version,
    RecordingLimits RecordingLimits);

/// <summary>Body of <c>POST /v1/livestreams/{id}/playback-tokens</c> (optional): the token's lifetime in seconds, 1..604800, default 3600.</summary>
public sealed class PlaybackTokenRequest
{
    public long? ExpiresIn { get; set; }
}

/// <summary>
/// A playback token (<c>aud</c> playback, <c>sub</c> the playback id, <c>exp</c> = <c>expiresAt</c>) and the
/// livestream's playback URLs with it already appended as <c>?token=</c>.
/// </summary>
public sealed record PlaybackTokenResponse(
    string Token,
    string PlaybackId,
    DateTimeOffset ExpiresAt,
    long ExpiresIn,
    string DownstreamUrl,
    string RecordingUrl,
    string RtmpPlaybackUrl);

public sealed record PageInfo(int CurrentPage, int PerPage, int LastPage, int Total);

public sealed record LivestreamPage(PageInfo PageInfo, IReadOnlyList<LivestreamResponse> Data);

[JsonSerializable(typeof(LivestreamRequest))]
[JsonSerializable(typeof(LivestreamResponse))]
[JsonSerializable(typeof(LivestreamPage))]
[JsonSerializable(typeof(PlaybackTokenRequest))]
[JsonSerializable(typeof(PlaybackTokenResponse))]
[JsonSerializable(typeof(RecordingList))]
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip)]
internal sealed partial class ApiJson : JsonSerializerContext;
