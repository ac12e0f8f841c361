namespace MediaServer.Hls.Playlists;

/// <summary>
/// What a media playlist promises about its future (RFC 8216 §4.3.3.5): a live window that slides, an
/// EVENT playlist that only grows, or a VOD playlist that never changes.
/// </summary>
public enum PlaylistType
{
    /// <summary>A sliding window; no EXT-X-PLAYLIST-TYPE tag.</summary>
    Live,

    /// <summary><c>EXT-X-PLAYLIST-TYPE:EVENT</c>: segments are only appended (a recording being made).</summary>
    Event,

    /// <summary><c>EXT-X-PLAYLIST-TYPE:VOD</c>: complete, with EXT-X-ENDLIST (a finished recording).</summary>
    Vod,
}
