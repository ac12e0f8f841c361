using System.Text;
using MediaServer.Hls.Playlists;
using MediaServer.Hls.Serving;
using MediaServer.Hls.Storage;
using MediaServer.Rtmp.Session;
using Microsoft.AspNetCore.WebUtilities;

namespace MediaServer.Fuzzing.Targets;

/// <summary>
/// What a player's request puts into our HLS code: the segment name of <c>/live/{id}/{session}-{seq}.ts</c>
/// (<see cref="SegmentNames.TryParseLive"/>), the <c>?token=</c> query that is carried into segment and
/// media playlist URIs (escaped as the host's playback authorizer does), and the RTMP <c>name?query</c> split.
/// Input: UTF-8 text <c>path?query</c>, decoded as ASP.NET decodes a URL. Nothing may escape: these are
/// Try-parsers and renderers; a rendered playlist must keep its lines whatever the query holds.
/// </summary>
internal static class HlsQueryTarget
{
    private static readonly DateTimeOffset s_time = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    public static void Run(ReadOnlySpan<byte> input)
    {
        var text = Encoding.UTF8.GetString(input);
        var question = text.IndexOf('?', StringComparison.Ordinal);
        var path = question < 0 ? text : text[..question];
        var query = question < 0 ? string.Empty : text[(question + 1)..];

        var name = path.EndsWith(".ts", StringComparison.Ordinal) ? path[..^3] : path;
        if (SegmentNames.TryParseLive(name, out var sessionId, out var sequence))
        {
            FuzzFindingException.Check(!sessionId.IsEmpty && sequence >= 0, "a parsed segment name has a session and a sequence >= 0");
            var session = sessionId.ToString();
            FuzzFindingException.Check(
                SegmentNames.TryParseLive(SegmentNames.Live(session, sequence).AsSpan(..^3), out var again, out var sequenceAgain)
                && again.SequenceEqual(session) && sequenceAgain == sequence,
                "the segment name we write parses back");
        }

        var (rtmpName, rtmpQuery) = RtmpServerSession.SplitQuery(text);
        FuzzFindingException.Check(!rtmpName.Contains('?', StringComparison.Ordinal), "an RTMP name has no '?' left");
        FuzzFindingException.Check(rtmpQuery is null ? text == rtmpName || text == rtmpName + "?" : text == rtmpName + "?" + rtmpQuery, "name?query splits losslessly");

        var token = QueryHelpers.ParseQuery(query).TryGetValue("token", out var values) ? values.ToString() : null;
        if (string.IsNullOrWhiteSpace(token))
        {
            return;
        }

        var carried = "token=" + Uri.EscapeDataString(token);
        var buffer = new SegmentBuffer();
        try
        {
            var segment = new HlsSegment(Math.Max(sequence, 0), 2000, false, s_time, buffer);
            var playlist = MediaPlaylistWriter.Render(new MediaPlaylist(2, segment.SequenceNumber, 0, "session", [segment], false, carried));
            FuzzFindingException.Check(Lines(playlist) == 7, "a carried query adds no playlist line");
            var multivariant = MultivariantPlaylistWriter.Render(new VariantStream(1, 0, null, 0, 0, HlsStream.MediaPlaylistName + "?" + carried));
            FuzzFindingException.Check(Lines(multivariant) == 4, "a carried query adds no multivariant playlist line");
        }
        finally
        {
            buffer.Release();
        }
    }

    private static int Lines(ReadOnlySpan<byte> playlist) => playlist.Count((byte)'\n');
}
