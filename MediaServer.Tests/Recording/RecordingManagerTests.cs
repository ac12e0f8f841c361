using System.Text;
using MediaServer.Hls.Playlists;
using MediaServer.Hls.Storage;
using MediaServer.Host.Configuration;
using MediaServer.Host.Data;
using MediaServer.Host.Recording;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using static MediaServer.Tests.Hls.HlsTestKit;

namespace MediaServer.Tests.Recording;

/// <summary>The recorder in process: real SQLite livestreams, real HLS streams, real files.</summary>
[NonParallelizable]
public class RecordingManagerTests
{
    private string _data = null!;
    private LivestreamStore _livestreams = null!;
    private HlsStreamStore _hls = null!;
    private RecordingStore _store = null!;
    private CapturingLogger _log = null!;
    private RecordingManager _manager = null!;

    [SetUp]
    public async Task SetUp()
    {
        _data = Path.Combine(Path.GetTempPath(), "mediaserver-tests", "recording-" + Guid.NewGuid().ToString("N"));
        var database = new Database(_data);
        await database.MigrateAsync();
        var key = await new ApiKeyStore(database, TimeProvider.System).CreateAsync("test");
        _livestreams = new LivestreamStore(database, TimeProvider.System);
        _hls = new HlsStreamStore(Options());
        _store = new RecordingStore(Microsoft.Extensions.Options.Options.Create(new MediaServerOptions { DataDirectory = _data }));
        _log = new CapturingLogger();
        _manager = new RecordingManager(_hls, _livestreams, _store, TimeProvider.System, _log);
        await _manager.StartAsync(CancellationToken.None);
        ApiKey = key.ApiKey;
    }

    private string ApiKey { get; set; } = "";

    [TearDown]
    public void TearDown()
    {
        _hls.Dispose();
        Directory.Delete(_data, recursive: true);
    }

    [Test]
    public async Task RecordTrue_SegmentsThenEnd_VodPlaylistOfTheSameBytes()
    {
        var livestream = await _livestreams.CreateAsync(ApiKey, "show", record: true, PlaybackPolicy.Public, []);
        var stream = new HlsStream(livestream.PlaybackId, Options(), sessionId: "sess1");
        _hls.Add(stream);
        var sent = new List<byte[]>();
        for (var i = 0; i < 3; i++)
        {
            sent.Add(Bytes(1000 + i, (byte)i));
            stream.AddSegment(2, 2000 + i, discontinuity: i == 2, Epoch.AddSeconds(2 * i), Buffer(sent[i]));
        }

        stream.MarkEnded();
        await _manager.StopAsync(CancellationToken.None);

        var folder = _store.SessionDirectory(livestream.PlaybackId, "sess1");
        var playlist = await File.ReadAllTextAsync(Path.Combine(folder, "index.m3u8"));
        Assert.That(playlist, Is.EqualTo(
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n" +
            "#EXT-X-PROGRAM-DATE-TIME:2026-01-01T12:00:00.000Z\n#EXTINF:2.000,\n0.ts\n" +
            "#EXTINF:2.001,\n1.ts\n" +
            "#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:2026-01-01T12:00:04.000Z\n#EXTINF:2.002,\n2.ts\n" +
            "#EXT-X-ENDLIST\n"));
        for (var i = 0; i < 3; i++)
        {
            Assert.That(await File.ReadAllBytesAsync(Path.Combine(folder, $"{i}.ts")), Is.EqualTo(sent[i]));
        }

        Assert.That(Directory.GetFiles(folder, "*.tmp"), Is.Empty);
        var listed = _store.List(livestream.PlaybackId).Single();
        Assert.That(listed.Metadata.Status, Is.EqualTo(RecordingStatus.Complete));
        Assert.That((listed.Segments, listed.DurationMs, listed.Bytes), Is.EqualTo((3, 6003L, 3003L)));
        Assert.That(stream.GetWindow().All(s => s.Buffer.RefCount == 1), Is.True, "the recorder returned every lease");
    }

    [Test]
    public async Task RecordFalse_NothingIsWritten_AndLeasesAreReturned()
    {
        var livestream = await _livestreams.CreateAsync(ApiKey, "show", record: false, PlaybackPolicy.Public, []);
        var stream = new HlsStream(livestream.PlaybackId, Options(), sessionId: "sess1");
        _hls.Add(stream);
        stream.AddSegment(2, 2000, false, Epoch, Buffer(Bytes(100, 1)));
        stream.MarkEnded();
        await _manager.StopAsync(CancellationToken.None);

        Assert.That(Directory.Exists(Path.Combine(_store.Root, livestream.PlaybackId)), Is.False);
        Assert.That(stream.GetWindow()[0].Buffer.RefCount, Is.EqualTo(1));
    }

    [Test]
    public async Task DiskFull_StopsTheRecordingWithAnErrorAndOneLogLine_LiveGoesOn()
    {
        var livestream = await _livestreams.CreateAsync(ApiKey, "show", record: true, PlaybackPolicy.Public, []);
        var folder = _store.SessionDirectory(livestream.PlaybackId, "sess1");
        Directory.CreateDirectory(folder);
        // The second segment's temporary file is /dev/full: the kernel answers its write with ENOSPC.
        File.CreateSymbolicLink(Path.Combine(folder, "1.ts.tmp"), "/dev/full");
        var stream = new HlsStream(livestream.PlaybackId, Options(), sessionId: "sess1");
        _hls.Add(stream);
        for (var i = 0; i < 4; i++)
        {
            stream.AddSegment(2, 2000, false, Epoch.AddSeconds(2 * i), Buffer(Bytes(500, (byte)i)));
        }

        stream.MarkEnded();
        await _manager.StopAsync(CancellationToken.None);

        Assert.That(stream.NextSequenceNumber, Is.EqualTo(4), "the live stream took every segment");
        var listed = _store.List(livestream.PlaybackId).Single();
        Assert.That(listed.Metadata.Status, Is.EqualTo(RecordingStatus.Failed));
        Assert.That(listed.Metadata.Error, Does.Contain("Writing to disk failed"));
        Assert.That(listed.Segments, Is.EqualTo(1), "the playlist still lists the segment written before the failure");
        Assert.That(_log.Errors, Has.Count.EqualTo(1), string.Join("\n", _log.Errors));
        Assert.That(stream.GetWindow().All(s => s.Buffer.RefCount == 1), Is.True, "the recorder returned every lease");
    }

    [Test]
    public void Recover_OpenSessionFromACrash_BecomesVodWithItsSegments()
    {
        var folder = _store.SessionDirectory("pb1", "sess1");
        var writer = new RecordingWriter(folder, new RecordingMetadata("pb1", "sess1", Epoch, null, RecordingStatus.Recording), 2);
        writer.Append(7, 2000, false, Epoch, new System.Buffers.ReadOnlySequence<byte>(Bytes(10, 1)));
        writer.Append(8, 1500, false, Epoch.AddSeconds(2), new System.Buffers.ReadOnlySequence<byte>(Bytes(20, 2)));
        File.WriteAllText(Path.Combine(folder, "9.ts.tmp"), "half a segment"); // the kill came mid-write
        Assert.That(File.ReadAllText(Path.Combine(folder, "index.m3u8")), Does.Contain("#EXT-X-PLAYLIST-TYPE:EVENT").And.Not.Contain("ENDLIST"));

        var recovered = _store.RecoverInterrupted();

        Assert.That(recovered, Is.EqualTo(new[] { folder }));
        var playlist = File.ReadAllText(Path.Combine(folder, "index.m3u8"));
        Assert.That(playlist, Does.Contain("#EXT-X-PLAYLIST-TYPE:VOD\n").And.Contain("#EXT-X-MEDIA-SEQUENCE:7\n").And.EndWith("8.ts\n#EXT-X-ENDLIST\n"));
        Assert.That(File.Exists(Path.Combine(folder, "9.ts.tmp")), Is.False);
        var listed = _store.List("pb1").Single();
        Assert.That((listed.Metadata.Status, listed.Segments, listed.DurationMs, listed.Bytes), Is.EqualTo((RecordingStatus.Complete, 2, 3500L, 30L)));
        Assert.That(_store.RecoverInterrupted(), Is.Empty, "a finalized session is left alone");
    }

    [TestCase("../etc")]
    [TestCase("a/b")]
    [TestCase("")]
    [TestCase("..")]
    public void IsValidId_PathCharacters_AreRefused(string id) => Assert.That(RecordingStore.IsValidId(id), Is.False);

    [TestCase("12.ts", true)]
    [TestCase("../1.ts", false)]
    [TestCase(".ts", false)]
    [TestCase("1.ts.tmp", false)]
    public void IsValidSegmentName(string name, bool valid) => Assert.That(SegmentNames.IsRecording(name), Is.EqualTo(valid));

    private static byte[] Bytes(int length, byte value) => Enumerable.Repeat(value, length).ToArray();

    private static SegmentBuffer Buffer(byte[] bytes)
    {
        var buffer = new SegmentBuffer();
        bytes.CopyTo(buffer.GetSpan(bytes.Length));
        buffer.Advance(bytes.Length);
        return buffer;
    }

    private sealed class CapturingLogger : ILogger<RecordingManager>
    {
        public List<string> Errors { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= LogLevel.Error)
            {
                lock (Errors)
                {
                    Errors.Add(formatter(state, exception));
                }
            }
        }
    }
}
