using System.Buffers;
using System.Text;
using MediaServer.Hls.Playlists;

namespace MediaServer.Tests.Hls;

public class MediaPlaylistReaderTests
{
    private static ReadMediaPlaylist Read(string text) => MediaPlaylistReader.Read(new StringReader(text));

    [Test]
    public void Read_WhatTheWriterWrites_RoundTrips()
    {
        var output = new ArrayBufferWriter<byte>();
        MediaPlaylistWriter.WriteHeader(output, PlaylistType.Vod, 4, 3);
        MediaPlaylistWriter.WriteEntryTags(output, 2000, discontinuity: false, DateTimeOffset.UnixEpoch);
        output.Write("3.ts\n"u8);
        MediaPlaylistWriter.WriteEntryTags(output, 3967, discontinuity: true, DateTimeOffset.UnixEpoch);
        output.Write("4.ts\n"u8);
        MediaPlaylistWriter.WriteEnd(output);

        var playlist = Read(Encoding.UTF8.GetString(output.WrittenSpan));

        Assert.That(playlist.Type, Is.EqualTo(PlaylistType.Vod));
        Assert.That(playlist.TargetDuration, Is.EqualTo(4));
        Assert.That(playlist.Ended, Is.True);
        Assert.That(playlist.Entries, Is.EqualTo(new[] { new PlaylistEntry("3.ts", 2000), new PlaylistEntry("4.ts", 3967) }));
    }

    [Test]
    public void WriteHeader_EachType_WritesItsTag()
    {
        static string Header(PlaylistType type)
        {
            var output = new ArrayBufferWriter<byte>();
            MediaPlaylistWriter.WriteHeader(output, type, 2, 5, 1);
            return Encoding.UTF8.GetString(output.WrittenSpan);
        }

        Assert.That(Header(PlaylistType.Live), Is.EqualTo("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:5\n#EXT-X-DISCONTINUITY-SEQUENCE:1\n"));
        Assert.That(Header(PlaylistType.Event), Does.Contain("#EXT-X-VERSION:3\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXT-X-TARGETDURATION:2\n"));
        Assert.That(Header(PlaylistType.Vod), Does.Contain("#EXT-X-PLAYLIST-TYPE:VOD\n"));
    }

    [TestCase("2.000", 2000L)]
    [TestCase("1.96", 1960L)]
    [TestCase("6", 6000L)]
    [TestCase("0.0419", 41L)]
    [TestCase(".5", 500L)]
    [TestCase("1.", 1000L)]
    public void TryParseDurationMs_Decimal_IsMilliseconds(string value, long expected)
    {
        Assert.That(MediaPlaylistReader.TryParseDurationMs(value, out var ms), Is.True);
        Assert.That(ms, Is.EqualTo(expected));
    }

    [TestCase("")]
    [TestCase("-1.0")]
    [TestCase("1e3")]
    [TestCase(".")]
    [TestCase("9223372036854775.999")]
    [TestCase("1.2.3")]
    [TestCase("99999999999999999999")]
    public void TryParseDurationMs_NotADuration_IsFalse(string value) =>
        Assert.That(MediaPlaylistReader.TryParseDurationMs(value, out _), Is.False);

    [Test]
    public void Read_CutShortAndUnknownTags_KeepsWhatIsWhole()
    {
        var playlist = Read("#EXTM3U\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXT-X-FOO:1\n#EXTINF:2.000,title\n0.ts\n\n#EXTINF:bad,\n1.ts\n#EXTINF:2.0");

        Assert.That(playlist.Type, Is.EqualTo(PlaylistType.Event));
        Assert.That(playlist.Ended, Is.False);
        Assert.That(playlist.Entries, Is.EqualTo(new[] { new PlaylistEntry("0.ts", 2000), new PlaylistEntry("1.ts", 0) }));
    }

    [Test]
    public void Read_CrlfAndTitles_AreRead()
    {
        var playlist = Read("#EXTM3U\r\n#EXT-X-PLAYLIST-TYPE:EVENT\r\n#EXT-X-TARGETDURATION:2\r\n#EXTINF:2.000,title\r\n0.ts\r\n#EXTINF:1.5,\r\n1.ts\r\n#EXT-X-ENDLIST\r\n");

        Assert.That(playlist.Entries.Select(e => e.DurationMs), Is.EqualTo(new long[] { 2000, 1500 }));
        Assert.That(playlist is { Ended: true, Type: PlaylistType.Event, TargetDuration: 2 }, Is.True);
    }

    [Test]
    public void CloseEvent_OpenEvent_BecomesVodWithEndList()
    {
        var closed = MediaPlaylistWriter.CloseEvent("#EXTM3U\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXTINF:2.000,\n0.ts\n");

        Assert.That(closed, Is.EqualTo("#EXTM3U\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:2.000,\n0.ts\n#EXT-X-ENDLIST\n"));
        Assert.That(Read(closed) is { Type: PlaylistType.Vod, Ended: true }, Is.True);
    }

    [Test]
    public void CloseEvent_AlreadyEnded_IsUnchanged()
    {
        const string ended = "#EXTM3U\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-ENDLIST\n";

        Assert.That(MediaPlaylistWriter.CloseEvent(ended), Is.SameAs(ended));
    }
}

public class SegmentNamesTests
{
    [Test]
    public void Live_WriteAndParse_RoundTrip()
    {
        var output = new ArrayBufferWriter<byte>();
        SegmentNames.WriteLive(output, "5f3a9c0d12ab", 42);
        var name = Encoding.UTF8.GetString(output.WrittenSpan);

        Assert.That(name, Is.EqualTo("5f3a9c0d12ab-42.ts"));
        Assert.That(SegmentNames.Live("5f3a9c0d12ab", 42), Is.EqualTo(name));
        Assert.That(SegmentNames.TryParseLive(name.AsSpan(..^3), out var session, out var sequence), Is.True);
        Assert.That(session.ToString(), Is.EqualTo("5f3a9c0d12ab"));
        Assert.That(sequence, Is.EqualTo(42));
    }

    [TestCase("abc-x")]
    [TestCase("0")]
    [TestCase("-5")]
    [TestCase("abc-+5")]
    public void TryParseLive_Malformed_IsFalse(string stem) =>
        Assert.That(SegmentNames.TryParseLive(stem, out _, out _), Is.False);

    [Test]
    public void Init_WriteAndParse_RoundTrip()
    {
        var name = SegmentNames.Init("5f3a", 3);

        Assert.That(name, Is.EqualTo("5f3a-init-3.mp4"));
        Assert.That(SegmentNames.TryParseInit(name.AsSpan(..^4), out var session, out var version), Is.True);
        Assert.That((session.ToString(), version), Is.EqualTo(("5f3a", 3)));
        Assert.That(SegmentNames.TryParseInit("5f3a-3", out _, out _), Is.False);
    }

    [Test]
    public void LivePart_WriteAndParse_RoundTrip_BothContainers()
    {
        var output = new ArrayBufferWriter<byte>();
        SegmentNames.WriteLivePart(output, "ab", 41, 2, SegmentNames.Fmp4Extension);

        Assert.That(Encoding.UTF8.GetString(output.WrittenSpan), Is.EqualTo("ab-41.2.m4s"));
        Assert.That(SegmentNames.TryParseLive("ab-41.2", out var session, out var sequence, out var part), Is.True);
        Assert.That((session.ToString(), sequence, part), Is.EqualTo(("ab", 41L, (int?)2)));
        Assert.That(SegmentNames.TryParseLive("ab-41", out _, out _, out var none) && none is null, Is.True);
        Assert.That(SegmentNames.TryParseLive("ab-41.x", out _, out _, out _), Is.False);
    }

    [Test]
    public void Recording_NameIsValid()
    {
        Assert.That(SegmentNames.Recording(17), Is.EqualTo("17.ts"));
        Assert.That(SegmentNames.IsRecording(SegmentNames.Recording(long.MaxValue)), Is.True);
    }
}
