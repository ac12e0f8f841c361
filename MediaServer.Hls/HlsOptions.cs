using Microsoft.Extensions.Options;

namespace MediaServer.Hls;

/// <summary>HLS output settings, bound from the configuration section <c>MediaServer:Hls</c>.</summary>
public sealed class HlsOptions
{
    /// <summary>The configuration section the host binds.</summary>
    public const string SectionName = "MediaServer:Hls";

    /// <summary>
    /// Wanted segment duration. With video a segment is cut at the first keyframe once it is at least this
    /// long, so real segments are a whole number of GOPs; audio-only streams are cut by time.
    /// </summary>
    public TimeSpan SegmentDuration { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Segments in the live window. The window also never drops below 3 × target duration of media
    /// (RFC 8216 §6.3.3: clients start no closer than three target durations to the end).
    /// </summary>
    public int PlaylistLength { get; set; } = 6;

    /// <summary>
    /// How long a segment removed from the window stays downloadable. Null means the RFC 8216 §6.2.2
    /// minimum: segment duration + playlist duration (<see cref="SegmentDuration"/> × (<see cref="PlaylistLength"/> + 1)).
    /// </summary>
    public TimeSpan? RetainRemovedSegmentsFor { get; set; }

    /// <summary>How long an ended stream's playlist (with EXT-X-ENDLIST) and segments stay servable.</summary>
    public TimeSpan EndedStreamRetention { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Safety cap on one segment's bytes: a segment that reaches it is cut at the next frame even without a
    /// keyframe. 64 MiB holds 2 s at 250 Mbit/s, far above any live contribution encode; it only guards
    /// memory against a publisher that never sends a keyframe.
    /// </summary>
    public long MaxSegmentBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// The LL-HLS part target (EXT-X-PART-INF:PART-TARGET), default 0.2 s; zero (or null): segments are not split
    /// into parts and the playlists are classic HLS. 0.2 s measured lowest camera-to-screen in hls.js (about 1.1-2 s
    /// against 1.6-3 s at 0.5 s; docs/HLS.md); players that do not know LL-HLS play the same playlist as classic HLS.
    /// </summary>
    public TimeSpan? PartDuration { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The container <c>index.m3u8</c> serves when the request names none (<c>?container=ts|fmp4</c>);
    /// an HEVC stream is served as fMP4 unless TS is asked for, as Apple requires.</summary>
    public HlsContainer Container { get; set; } = HlsContainer.Ts;

    /// <summary>Serve the fMP4 (CMAF) rendition of every stream, beside MPEG-TS (default on).</summary>
    public bool Fmp4Rendition { get; set; } = true;

    /// <summary>
    /// Produce the fMP4 rendition only while it is watched (default on): from the first request for it (its playlist
    /// then waits for the first segment, which the cached GOP makes quick) until no request came for
    /// <see cref="Fmp4IdleTimeout"/>. Off, or with <see cref="Container"/> fmp4, it is produced for every stream.
    /// MPEG-TS is always produced (recordings are made from it).
    /// </summary>
    public bool Fmp4OnDemand { get; set; } = true;

    /// <summary>How long an on-demand fMP4 rendition is kept up without a request (default 30 s; players reload
    /// the playlist every few seconds).</summary>
    public TimeSpan Fmp4IdleTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a segment or part download may go without the reader taking the next 64 KiB chunk
    /// (<see cref="Storage.SegmentBuffer.ChunkSize"/>) before its connection is dropped (default 10 s, so a reader
    /// slower than ~6.5 KB/s). A player that stops reading would otherwise hold the segment's buffers for as long as
    /// the connection lives. Zero disables the check.
    /// </summary>
    public TimeSpan StalledReaderTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Whether the fMP4 rendition is made only while watched.</summary>
    public bool IsFmp4OnDemand => Fmp4Rendition && Fmp4OnDemand && Container != HlsContainer.Fmp4;

    /// <summary>The effective retention of removed segments.</summary>
    public TimeSpan EffectiveRetainRemovedSegmentsFor =>
        RetainRemovedSegmentsFor ?? SegmentDuration * (PlaylistLength + 1);
}

/// <summary>The segment container of an HLS rendition.</summary>
public enum HlsContainer : byte
{
    /// <summary>MPEG-TS segments (<c>.ts</c>), the classic HLS container.</summary>
    Ts,

    /// <summary>Fragmented MP4 / CMAF segments (<c>.m4s</c>) with an initialization segment (<c>.mp4</c>, EXT-X-MAP).</summary>
    Fmp4,
}

/// <summary>Validates <see cref="HlsOptions"/> at start-up.</summary>
public sealed class HlsOptionsValidator : IValidateOptions<HlsOptions>
{
    /// <summary>Longest allowed segment duration: EXT-X-TARGETDURATION is meant to be a few seconds, and
    /// players buffer 3 × target before playing.</summary>
    public static readonly TimeSpan MaxSegmentDuration = TimeSpan.FromSeconds(60);

    public ValidateOptionsResult Validate(string? name, HlsOptions options)
    {
        List<string>? errors = null;
        if (options.SegmentDuration < TimeSpan.FromMilliseconds(100) || options.SegmentDuration > MaxSegmentDuration)
        {
            (errors ??= []).Add($"MediaServer:Hls:SegmentDuration must be between 0.1 s and {MaxSegmentDuration.TotalSeconds} s.");
        }

        if (options.PlaylistLength is < 3 or > 100)
        {
            (errors ??= []).Add("MediaServer:Hls:PlaylistLength must be between 3 and 100 (RFC 8216 §6.3.3 wants 3 target durations in the window).");
        }

        if (options.RetainRemovedSegmentsFor is { } retain && retain < TimeSpan.Zero)
        {
            (errors ??= []).Add("MediaServer:Hls:RetainRemovedSegmentsFor must not be negative.");
        }

        if (options.EndedStreamRetention < TimeSpan.Zero)
        {
            (errors ??= []).Add("MediaServer:Hls:EndedStreamRetention must not be negative.");
        }

        if (options.PartDuration is { } part && part != TimeSpan.Zero
            && (part < TimeSpan.FromMilliseconds(100) || part > options.SegmentDuration / 2))
        {
            (errors ??= []).Add("MediaServer:Hls:PartDuration must be between 0.1 s and half the segment duration (or 0 / unset: no parts).");
        }

        if (options.Container == HlsContainer.Fmp4 && !options.Fmp4Rendition)
        {
            (errors ??= []).Add("MediaServer:Hls:Container is fmp4 but MediaServer:Hls:Fmp4Rendition is false: nothing would be served.");
        }

        if (options.StalledReaderTimeout < TimeSpan.Zero)
        {
            (errors ??= []).Add("MediaServer:Hls:StalledReaderTimeout must not be negative (0 disables it).");
        }

        if (options.Fmp4IdleTimeout < TimeSpan.FromSeconds(1))
        {
            (errors ??= []).Add("MediaServer:Hls:Fmp4IdleTimeout must be at least 1 s.");
        }

        if (options.MaxSegmentBytes < 64 * 1024)
        {
            (errors ??= []).Add("MediaServer:Hls:MaxSegmentBytes must be at least 64 KiB.");
        }

        return errors is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
