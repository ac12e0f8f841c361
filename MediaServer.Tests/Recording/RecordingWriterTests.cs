using System.Buffers;
using System.Diagnostics;
using System.Text;
using MediaServer.Hls.Playlists;
using MediaServer.Host.Recording;
using static MediaServer.Tests.Hls.HlsTestKit;

namespace MediaServer.Tests.Recording;

/// <summary>The recording writer on real files: append-only playlist, flat cost per segment, owner-only modes.</summary>
[NonParallelizable]
public class RecordingWriterTests
{
    private string _folder = null!;

    [SetUp]
    public void SetUp()
    {
        // tmpfs when there is one: the long test counts bytes written, not the disk's speed, and 43,200 fsyncs on a
        // shared disk would only make it slow.
        var root = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        _folder = Path.Combine(root, "mediaserver-tests", "writer-" + Guid.NewGuid().ToString("N"), "pb1", "sess1");
    }

    [TearDown]
    public void TearDown()
    {
        var top = Path.GetDirectoryName(Path.GetDirectoryName(_folder))!;
        if (Directory.Exists(top))
        {
            Directory.Delete(top, recursive: true);
        }
    }

    /// <summary>
    /// 24 hours of 2 s segments (43,200): every segment adds exactly its own entry to the playlist (its bytes, no
    /// more), the playlist file is never replaced while recording (a handle opened at the start sees every entry),
    /// and is a valid EVENT playlist at each check. The old writer rewrote the whole playlist per segment (O(n²)).
    /// </summary>
    [Test]
    public void Append_TwentyFourHoursOfSegments_PlaylistBytesPerSegmentStayFlat()
    {
        const int Segments = 24 * 3600 / 2;
        const int Window = 1000;
        var media = new ReadOnlySequence<byte>(new byte[188]);
        using var writer = new RecordingWriter(_folder, Metadata(), targetDuration: 2);
        var playlistPath = Path.Combine(_folder, RecordingWriter.PlaylistName);
        FileStream? firstHandle = null;
        var ticks = new long[Segments];
        try
        {
            var clock = new Stopwatch();
            for (var i = 0; i < Segments; i++)
            {
                var before = writer.PlaylistBytesWritten;
                clock.Restart();
                writer.Append(i, 2000, discontinuity: false, Epoch.AddSeconds(2 * i), media);
                ticks[i] = clock.ElapsedTicks;
                var written = writer.PlaylistBytesWritten - before;
                if (i == 0)
                {
                    firstHandle = new FileStream(playlistPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                    continue;
                }

                // "#EXTINF:2.000,\n" + "{i}.ts\n": the entry, whatever the playlist's length.
                var entry = "#EXTINF:2.000,\n".Length + SegmentNames.Recording(i).Length + 1;
                if (written != entry)
                {
                    Assert.Fail($"segment {i} wrote {written} playlist bytes, its entry is {entry}");
                }

                if ((i + 1) % (Window * 8) == 0 || i == Segments - 1)
                {
                    var onDisk = ReadPlaylist(playlistPath);
                    Assert.That((onDisk.Type, onDisk.Ended, onDisk.Entries.Count), Is.EqualTo((PlaylistType.Event, false, i + 1)));
                    Assert.That(firstHandle!.Length, Is.EqualTo(new FileInfo(playlistPath).Length), "the file open since segment 0 is the playlist: appended, not replaced");
                }
            }

            Assert.That(writer.PlaylistRewrites, Is.EqualTo(1), "written whole once, at its creation");
            Assert.That(writer.PlaylistBytesWritten, Is.EqualTo(new FileInfo(playlistPath).Length), "every byte written is in the file once");
        }
        finally
        {
            firstHandle?.Dispose();
        }

        // Time per segment, first window against the last (medians: robust to a loaded machine); generous bound.
        var first = Median(ticks.AsSpan(1, Window));
        var last = Median(ticks.AsSpan(Segments - Window, Window));
        TestContext.Out.WriteLine($"median Append: first {Window} {first * 1e6 / Stopwatch.Frequency:0.0} µs, last {Window} {last * 1e6 / Stopwatch.Frequency:0.0} µs; playlist {writer.PlaylistBytesWritten} bytes");
        Assert.That(last, Is.LessThan((first * 4) + (Stopwatch.Frequency / 1000)), "per-segment time stays flat");

        var bytesBeforeEnd = writer.PlaylistBytesWritten;
        writer.Finish(Epoch.AddDays(1));
        var final = ReadPlaylist(playlistPath);
        Assert.That((final.Type, final.Ended, final.Entries.Count), Is.EqualTo((PlaylistType.Vod, true, Segments)));
        Assert.That(writer.PlaylistBytesWritten - bytesBeforeEnd, Is.EqualTo(new FileInfo(playlistPath).Length), "the end writes the playlist whole once");
    }

    [Test]
    public void Append_ThenFinish_ExactText_AndTheLongSegmentRewritesTheTargetOnce()
    {
        using var writer = new RecordingWriter(_folder, Metadata(), targetDuration: 2);
        var playlist = Path.Combine(_folder, RecordingWriter.PlaylistName);
        writer.Append(5, 2000, false, Epoch, Media(10));
        writer.Append(6, 1900, false, Epoch.AddSeconds(2), Media(10));
        Assert.That(File.ReadAllText(playlist), Is.EqualTo(
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:5\n" +
            "#EXT-X-PROGRAM-DATE-TIME:2026-01-01T12:00:00.000Z\n#EXTINF:2.000,\n5.ts\n#EXTINF:1.900,\n6.ts\n"));
        Assert.That(writer.PlaylistRewrites, Is.EqualTo(1));

        // 3.6 s rounds to 4 > 2: the target in the header must grow (RFC 8216 §4.3.3.1), once.
        writer.Append(7, 3600, true, Epoch.AddSeconds(4), Media(10));
        writer.Append(8, 2000, false, Epoch.AddSeconds(8), Media(10));
        Assert.That(writer.PlaylistRewrites, Is.EqualTo(2));
        writer.Finish(Epoch.AddSeconds(10));
        Assert.That(File.ReadAllText(playlist), Is.EqualTo(
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:5\n" +
            "#EXT-X-PROGRAM-DATE-TIME:2026-01-01T12:00:00.000Z\n#EXTINF:2.000,\n5.ts\n#EXTINF:1.900,\n6.ts\n" +
            "#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:2026-01-01T12:00:04.000Z\n#EXTINF:3.600,\n7.ts\n#EXTINF:2.000,\n8.ts\n" +
            "#EXT-X-ENDLIST\n"));
        Assert.That(writer.PlaylistRewrites, Is.EqualTo(3));
        Assert.That(Directory.GetFiles(_folder, "*.tmp"), Is.Empty);
    }

    [Test]
    public void NewSession_FoldersAre0700_FilesAre0600()
    {
        if (OperatingSystem.IsWindows())
        {
            Assert.Ignore("Unix file modes");
            return;
        }

        using (var writer = new RecordingWriter(_folder, Metadata(), targetDuration: 2))
        {
            writer.Append(0, 2000, false, Epoch, Media(10));
            writer.Finish(Epoch.AddSeconds(2));
        }

        const UnixFileMode Folder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        const UnixFileMode Owner = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        Assert.That(File.GetUnixFileMode(_folder), Is.EqualTo(Folder));
        Assert.That(File.GetUnixFileMode(Path.GetDirectoryName(_folder)!), Is.EqualTo(Folder), "the livestream's folder too");
        foreach (var file in Directory.GetFiles(_folder))
        {
            Assert.That(File.GetUnixFileMode(file), Is.EqualTo(Owner), file);
        }

        Assert.That(Directory.GetFiles(_folder).Select(Path.GetFileName), Is.EquivalentTo(new[] { "0.ts", "index.m3u8", "recording.json" }));
    }

    private const string Header = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n";

    [TestCase(Header + "#EXTINF:2.000,\n0.ts\n", Header + "#EXTINF:2.000,\n0.ts\n", TestName = "CompleteEntries_Whole_Unchanged")]
    [TestCase(Header + "#EXTINF:2.000,\n0.ts\n#EXTINF:2.0", Header + "#EXTINF:2.000,\n0.ts\n", TestName = "CompleteEntries_TagCutShort_LeftOut")]
    [TestCase(Header + "#EXTINF:2.000,\n0.ts\n#EXTINF:2.000,\n1.t", Header + "#EXTINF:2.000,\n0.ts\n", TestName = "CompleteEntries_UriCutShort_LeftOut")]
    [TestCase(Header + "#EXTINF:2.000,\n0.ts\n#EXTINF:2.000,\n1.ts", Header + "#EXTINF:2.000,\n0.ts\n", TestName = "CompleteEntries_UriWithoutNewline_LeftOut")]
    [TestCase(Header + "#EXTINF:2.0", Header, TestName = "CompleteEntries_FirstEntryCutShort_HeaderOnly")]
    [TestCase(Header + "#EXTINF:2.000,\n0.ts\n#EXT-X-ENDLIST\n", Header + "#EXTINF:2.000,\n0.ts\n#EXT-X-ENDLIST\n", TestName = "CompleteEntries_Ended_Unchanged")]
    public void CompleteEntries(string onDisk, string served) => Assert.That(RecordingWriter.CompleteEntries(onDisk), Is.EqualTo(served));

    private static RecordingMetadata Metadata() => new("pb1", "sess1", Epoch, null, RecordingStatus.Recording);

    private static ReadOnlySequence<byte> Media(int length) => new(Encoding.ASCII.GetBytes(new string('m', length)));

    private static ReadMediaPlaylist ReadPlaylist(string path)
    {
        using var reader = File.OpenText(path);
        return MediaPlaylistReader.Read(reader);
    }

    private static long Median(Span<long> values)
    {
        var copy = values.ToArray();
        Array.Sort(copy);
        return copy[copy.Length / 2];
    }
}
