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
    private FakeFreeSpace _freeSpace = null!;
    private readonly List<RecordingStoppedEvent> _stopped = [];

    /// <summary>The floor of these tests: 1000 bytes (segments are 1000 bytes or less, disks "hold" far more by default).</summary>
    private const long Floor = 1000;

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
        _freeSpace = new FakeFreeSpace();
        _manager = new RecordingManager(_hls, _livestreams, _store, TimeProvider.System, _log,
            Microsoft.Extensions.Options.Options.Create(new RecordingOptions { MinFreeBytes = Floor }), _freeSpace);
        _stopped.Clear();
        _manager.RecordingStopped += e =>
        {
            lock (_stopped)
            {
                _stopped.Add(e);
            }
        };
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

    [Test]
    public async Task FreeSpaceBelowTheFloor_StopsTheRecordingWithItsStatus_LiveHlsGoesOn()
    {
        var livestream = await _livestreams.CreateAsync(ApiKey, "show", record: true, PlaybackPolicy.Public, []);
        // Room for three segments of 1000 bytes above the floor, then the disk "fills": 1500 bytes free.
        _freeSpace.Available = call => call < 3 ? 1_000_000 : Floor + 500;
        var stream = new HlsStream(livestream.PlaybackId, Options(), sessionId: "sess1");
        _hls.Add(stream);
        for (var i = 0; i < 5; i++)
        {
            stream.AddSegment(2, 2000, false, Epoch.AddSeconds(2 * i), Buffer(Bytes(1000, (byte)i)));
        }

        var listed = await WaitForStatusAsync(livestream.PlaybackId, RecordingStatus.Stopped);

        // The live stream goes on after the recording stopped: its playlist keeps gaining segments.
        for (var i = 5; i < 8; i++)
        {
            stream.AddSegment(2, 2000, false, Epoch.AddSeconds(2 * i), Buffer(Bytes(1000, (byte)i)));
        }

        var live = Encoding.ASCII.GetString(stream.RenderPlaylist(null)!);
        Assert.That(live, Does.Contain("sess1-7.ts").And.Not.Contain("ENDLIST"), live);
        stream.MarkEnded();
        await _manager.StopAsync(CancellationToken.None);

        Assert.That((listed.Metadata.StopReason, listed.Segments, listed.Bytes), Is.EqualTo((RecordingStopReason.MinFreeBytes, 3, 3000L)));
        Assert.That(listed.Metadata.Error, Does.Contain("MinFreeBytes (1000 bytes)").And.Contain("1500 bytes free"));
        var folder = _store.SessionDirectory(livestream.PlaybackId, "sess1");
        var playlist = await File.ReadAllTextAsync(Path.Combine(folder, "index.m3u8"));
        Assert.That(playlist, Does.Contain("#EXT-X-PLAYLIST-TYPE:VOD\n").And.EndWith("2.ts\n#EXT-X-ENDLIST\n"), "a stopped recording is finished and plays");
        Assert.That(File.Exists(Path.Combine(folder, "3.ts")), Is.False);
        Assert.That(_stopped.Select(e => (e.PlaybackId, e.SessionId, e.Status, e.Reason, e.Segments)),
            Is.EqualTo(new[] { (livestream.PlaybackId, "sess1", RecordingStatus.Stopped, RecordingStopReason.MinFreeBytes, 3) }), "one event");
        Assert.That(_log.Warnings.Count(w => w.Contains("stopped (minFreeBytes)", StringComparison.Ordinal)), Is.EqualTo(1), string.Join("\n", _log.Warnings));
        Assert.That(_log.Errors, Is.Empty);
        Assert.That(stream.GetWindow().All(s => s.Buffer.RefCount == 1), Is.True, "the recorder returned every lease");
    }

    [TestCase(5L, null, 2, RecordingStopReason.MaxDuration, TestName = "MaxDurationSeconds_StopsBeforeTheSegmentThatWouldPassIt")]
    [TestCase(null, 2500L, 2, RecordingStopReason.MaxBytes, TestName = "MaxBytes_StopsBeforeTheSegmentThatWouldPassIt")]
    [TestCase(6L, 3000L, 3, null, TestName = "LimitsExactlyMet_TheRecordingCompletes")]
    public async Task LivestreamLimit_StopsTheRecording(long? maxDurationSeconds, long? maxBytes, int recorded, string? reason)
    {
        var livestream = await _livestreams.CreateAsync(ApiKey, "show", record: true, PlaybackPolicy.Public, [], new RecordingLimits(maxDurationSeconds, maxBytes));
        var stream = new HlsStream(livestream.PlaybackId, Options(), sessionId: "sess1");
        _hls.Add(stream);
        for (var i = 0; i < 3; i++)
        {
            stream.AddSegment(2, 2000, false, Epoch.AddSeconds(2 * i), Buffer(Bytes(1000, (byte)i)));
        }

        stream.MarkEnded();
        await _manager.StopAsync(CancellationToken.None);

        var listed = _store.List(livestream.PlaybackId).Single();
        Assert.That((listed.Metadata.Status, listed.Metadata.StopReason, listed.Segments, listed.DurationMs),
            Is.EqualTo((reason is null ? RecordingStatus.Complete : RecordingStatus.Stopped, reason, recorded, recorded * 2000L)));
        Assert.That(_stopped.Select(e => e.Reason), Is.EqualTo(reason is null ? Array.Empty<string>() : new[] { reason }));
        Assert.That(stream.NextSequenceNumber, Is.EqualTo(3), "the live stream took every segment");
    }

    [Test]
    public async Task PatchedLimit_AppliesToTheSessionBeingRecorded()
    {
        var livestream = await _livestreams.CreateAsync(ApiKey, "show", record: true, PlaybackPolicy.Public, []);
        var stream = new HlsStream(livestream.PlaybackId, Options(), sessionId: "sess1");
        _hls.Add(stream);
        stream.AddSegment(2, 2000, false, Epoch, Buffer(Bytes(1000, 0)));
        await WaitForSegmentsAsync(livestream.PlaybackId, 1);
        await _livestreams.UpdateAsync(livestream with { RecordingLimits = new RecordingLimits(MaxDurationSeconds: 3) });
        stream.AddSegment(2, 2000, false, Epoch.AddSeconds(2), Buffer(Bytes(1000, 1)));
        stream.MarkEnded();
        await _manager.StopAsync(CancellationToken.None);

        var listed = _store.List(livestream.PlaybackId).Single();
        Assert.That((listed.Metadata.Status, listed.Metadata.StopReason, listed.Segments), Is.EqualTo((RecordingStatus.Stopped, RecordingStopReason.MaxDuration, 1)));
    }

    [Test]
    public async Task DeleteRecordings_WhileRecording_StopsWritingAndRemovesTheFolder()
    {
        var livestream = await _livestreams.CreateAsync(ApiKey, "show", record: true, PlaybackPolicy.Public, []);
        var stream = new HlsStream(livestream.PlaybackId, Options(), sessionId: "sess1");
        _hls.Add(stream);
        stream.AddSegment(2, 2000, false, Epoch, Buffer(Bytes(1000, 0)));
        await WaitForSegmentsAsync(livestream.PlaybackId, 1);

        Assert.That(await _manager.DeleteRecordingsAsync(livestream.PlaybackId).WaitAsync(TimeSpan.FromSeconds(20)), Is.True);
        stream.AddSegment(2, 2000, false, Epoch.AddSeconds(2), Buffer(Bytes(1000, 1)));
        stream.MarkEnded();
        await _manager.StopAsync(CancellationToken.None);

        Assert.That(Directory.Exists(Path.Combine(_store.Root, livestream.PlaybackId)), Is.False, "nothing written after the delete");
        Assert.That(_log.Errors, Is.Empty, "the recorder stopped before the folder went");
        Assert.That(_manager.IsRecording(livestream.PlaybackId, "sess1"), Is.False);
        Assert.That(stream.GetWindow().All(s => s.Buffer.RefCount == 1), Is.True, "the recorder returned every lease");
    }

    [Test]
    public async Task RetentionSweep_DeletesFinishedSessionsOlderThanRetentionDays_AndPurgesAKeptTombstone()
    {
        var livestream = await _livestreams.CreateAsync(ApiKey, "show", record: true, PlaybackPolicy.Public, [], new RecordingLimits(RetentionDays: 2));
        var now = DateTimeOffset.UtcNow;
        Finished(livestream.PlaybackId, "old", endedAt: now.AddDays(-3));
        Finished(livestream.PlaybackId, "recent", endedAt: now.AddDays(-1));
        var retention = new RecordingRetention(_livestreams, _store, _manager, TimeProvider.System,
            Microsoft.Extensions.Options.Options.Create(new RecordingOptions()), Microsoft.Extensions.Logging.Abstractions.NullLogger<RecordingRetention>.Instance);

        Assert.That(await retention.SweepAsync(CancellationToken.None), Is.EqualTo(1));
        Assert.That(_store.List(livestream.PlaybackId).Select(r => r.Metadata.SessionId), Is.EqualTo(new[] { "recent" }));

        // Deleted with its recordings kept: the sweep still applies, and removes the tombstone with the last one.
        await _livestreams.DeleteAsync(livestream, keepRecordings: true);
        Finished(livestream.PlaybackId, "recent", endedAt: now.AddDays(-5));
        Assert.That(await retention.SweepAsync(CancellationToken.None), Is.EqualTo(1));
        Assert.That(await _livestreams.GetWithRecordingsAsync(ApiKey, livestream.Id), Is.Null);
    }

    [TestCase(0L, 10_000L, null, null, 0L, 0L, null, TestName = "Limits_NoneAndFloorOff_Records")]
    [TestCase(1000L, 2000L, null, null, 0L, 0L, null, TestName = "Limits_FreeExactlyFloorPlusSegment_Records")]
    [TestCase(1000L, 1999L, null, null, 0L, 0L, RecordingStopReason.MinFreeBytes, TestName = "Limits_FreeOneByteShort_Stops")]
    [TestCase(0L, 0L, 4L, null, 2000L, 0L, null, TestName = "Limits_DurationExactlyMet_Records")]
    [TestCase(0L, 0L, 4L, null, 2001L, 0L, RecordingStopReason.MaxDuration, TestName = "Limits_DurationPassed_Stops")]
    [TestCase(0L, 0L, null, 2000L, 0L, 1000L, null, TestName = "Limits_BytesExactlyMet_Records")]
    [TestCase(0L, 0L, null, 1999L, 0L, 1000L, RecordingStopReason.MaxBytes, TestName = "Limits_BytesPassed_Stops")]
    public void Limits(long floor, long available, long? maxSeconds, long? maxBytes, long recordedMs, long recordedBytes, string? reason) =>
        Assert.That(RecordingLimitCheck.Exceeded(new RecordingLimits(maxSeconds, maxBytes), floor, available, recordedMs, recordedBytes, segmentMs: 2000, segmentBytes: 1000)?.Reason, Is.EqualTo(reason));

    [Test]
    public void Recover_LastEntryCutShortByAPowerLoss_IsLeftOut_AndCountsAreStored()
    {
        var folder = _store.SessionDirectory("pb1", "sess1");
        using (var writer = new RecordingWriter(folder, new RecordingMetadata("pb1", "sess1", Epoch, null, RecordingStatus.Recording), 2))
        {
            writer.Append(7, 2000, false, Epoch, new System.Buffers.ReadOnlySequence<byte>(Bytes(10, 1)));
            writer.Append(8, 1500, false, Epoch.AddSeconds(2), new System.Buffers.ReadOnlySequence<byte>(Bytes(20, 2)));
        }

        File.AppendAllText(Path.Combine(folder, "index.m3u8"), "#EXTINF:2.000,\n9.t"); // the append of segment 9, cut short

        Assert.That(_store.RecoverInterrupted(), Has.Count.EqualTo(1));
        var playlist = File.ReadAllText(Path.Combine(folder, "index.m3u8"));
        Assert.That(playlist, Does.EndWith("#EXTINF:1.500,\n8.ts\n#EXT-X-ENDLIST\n").And.Not.Contain("9.t"));
        var metadata = RecordingStore.ReadMetadata(folder)!;
        Assert.That((metadata.Segments, metadata.DurationMs, metadata.Bytes), Is.EqualTo(((int?)2, (long?)3500, (long?)30)), "listing reads recording.json only from now on");
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

    private void Finished(string playbackId, string sessionId, DateTimeOffset endedAt)
    {
        using var writer = new RecordingWriter(_store.SessionDirectory(playbackId, sessionId), new RecordingMetadata(playbackId, sessionId, endedAt.AddMinutes(-1), null, RecordingStatus.Recording), 2);
        writer.Append(0, 2000, false, endedAt.AddMinutes(-1), new System.Buffers.ReadOnlySequence<byte>(Bytes(10, 1)));
        writer.Finish(endedAt);
    }

    private Task<RecordingInfo> WaitForStatusAsync(string playbackId, string status) =>
        WaitForListedAsync(playbackId, r => r.Metadata.Status == status, status);

    private Task<RecordingInfo> WaitForSegmentsAsync(string playbackId, int segments) =>
        WaitForListedAsync(playbackId, r => r.Segments >= segments, $"{segments} segments");

    // Polls the livestream's one session until it is what the test waits for (20 s at most).
    private async Task<RecordingInfo> WaitForListedAsync(string playbackId, Func<RecordingInfo, bool> ready, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            if (_store.List(playbackId) is [{ } listed] && ready(listed))
            {
                return listed;
            }

            await Task.Delay(20);
        }

        Assert.Fail($"the recording of {playbackId} did not get to {what}");
        return null!;
    }

    private static byte[] Bytes(int length, byte value) => Enumerable.Repeat(value, length).ToArray();

    private static SegmentBuffer Buffer(byte[] bytes)
    {
        var buffer = new SegmentBuffer();
        bytes.CopyTo(buffer.GetSpan(bytes.Length));
        buffer.Advance(bytes.Length);
        return buffer;
    }

    private sealed class FakeFreeSpace : IFreeSpaceProvider
    {
        private int _calls;

        /// <summary>Free bytes by call number (0: the check before the first segment).</summary>
        public Func<int, long> Available { get; set; } = static _ => long.MaxValue / 2;

        public long AvailableBytes(string directory)
        {
            Assert.That(Directory.Exists(directory), Is.True, "asked about an existing folder");
            return Available(Interlocked.Increment(ref _calls) - 1);
        }
    }

    private sealed class CapturingLogger : ILogger<RecordingManager>
    {
        public List<string> Errors { get; } = [];

        public List<string> Warnings { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var list = logLevel >= LogLevel.Error ? Errors : logLevel == LogLevel.Warning ? Warnings : null;
            if (list is not null)
            {
                lock (list)
                {
                    list.Add(formatter(state, exception));
                }
            }
        }
    }
}
