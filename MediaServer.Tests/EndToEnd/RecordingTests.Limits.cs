using System.Net;
using System.Text.RegularExpressions;
using MediaServer.Tests.Infrastructure;

namespace MediaServer.Tests.EndToEnd;

/// <summary>Recording limits, deletion and file modes with the real server and ffmpeg.</summary>
public partial class RecordingTests
{
    [Test]
    public async Task FreeSpaceFloor_StopsTheRecordingWithItsStatus_LiveHlsGoesOn()
    {
        // A floor above any disk's free space: the first segment would take the disk below it.
        await using var server = await ServerProcess.StartAsync(["--MediaServer:Recording:MinFreeBytes=4611686018427387904"], dataDirectory: _data);
        var livestream = await CreateAsync(server, record: true);
        var playbackId = livestream.GetProperty("playbackId").GetString()!;
        using var publisher = Ffmpeg.StartPublishing(livestream.GetProperty("upstreamUrl").GetString()!, seconds: 60, out _);
        try
        {
            var recording = await WaitForRecordingAsync(server, livestream, r => r.GetProperty("status").GetString() == "stopped");
            Assert.That(recording.GetProperty("stopReason").GetString(), Is.EqualTo("minFreeBytes"), recording.ToString());
            Assert.That(recording.GetProperty("error").GetString(), Does.Contain("MediaServer:Recording:MinFreeBytes"));
            Assert.That(recording.GetProperty("segments").GetInt32(), Is.Zero);

            // The live HLS goes on: its playlist gains segments after the recording stopped.
            var before = LastSequence(await server.WaitForMediaPlaylistAsync(playbackId, p => LastSequence(p) >= 0));
            var after = await server.WaitForMediaPlaylistAsync(playbackId, p => LastSequence(p) >= before + 2, TimeSpan.FromSeconds(30));
            Assert.That(after, Does.Not.Contain("#EXT-X-ENDLIST"));
            Assert.That(Regex.Count(server.Log, "stopped \\(minFreeBytes\\)"), Is.EqualTo(1), "logged once:\n" + server.Log);

            // The stopped session plays as a finished recording (no segment in it, but a valid VOD playlist).
            var playlist = await server.Http.GetStringAsync(new Uri(recording.GetProperty("url").GetString()!));
            Assert.That(playlist, Does.Contain("#EXT-X-PLAYLIST-TYPE:VOD\n").And.EndWith("#EXT-X-ENDLIST\n"));
        }
        finally
        {
            ProcessRunner.KillQuietly(publisher);
        }
    }

    [Test]
    public async Task MaxDurationSeconds_StopsTheRecordingAtTheLimit_ThePublishGoesOn()
    {
        await using var server = await ServerProcess.StartAsync(dataDirectory: _data);
        var livestream = await CreateAsync(server, record: true, recordingLimits: new { maxDurationSeconds = 4 });
        Assert.That(livestream.GetProperty("recordingLimits").GetProperty("maxDurationSeconds").GetInt64(), Is.EqualTo(4));

        var publish = await Ffmpeg.PublishAsync(livestream.GetProperty("upstreamUrl").GetString()!, seconds: 12, realtime: false);
        Assert.That(publish.ExitCode, Is.Zero, "the publisher was not cut off:\n" + publish);

        var recording = await WaitForRecordingAsync(server, livestream, r => r.GetProperty("status").GetString() == "stopped");
        Assert.That(recording.GetProperty("stopReason").GetString(), Is.EqualTo("maxDurationSeconds"), recording.ToString());
        Assert.That(recording.GetProperty("duration").GetDouble(), Is.InRange(0.5, 4.0), recording.ToString());
        var url = recording.GetProperty("url").GetString()!;
        var decode = await Ffmpeg.DecodeAsync(url, TimeSpan.FromSeconds(60));
        Assert.That(decode.ExitCode, Is.Zero, decode.ToString());
        Assert.That(decode.StandardError.Trim(), Is.Empty, decode.StandardError);
    }

    [Test]
    public async Task DeleteLivestream_DeletesItsRecordings_KeepRecordingsKeepsThemReachable_FilesOwnerOnly()
    {
        await using var server = await ServerProcess.StartAsync(dataDirectory: _data);
        var deleted = await CreateAsync(server, record: true);
        var kept = await CreateAsync(server, record: true);
        foreach (var livestream in new[] { deleted, kept })
        {
            var publish = await Ffmpeg.PublishAsync(livestream.GetProperty("upstreamUrl").GetString()!, seconds: 4, realtime: false);
            Assert.That(publish.ExitCode, Is.Zero, publish.ToString());
            await WaitForRecordingAsync(server, livestream, r => r.GetProperty("status").GetString() == "complete");
        }

        var deletedFolder = Path.Combine(_data, "recordings", deleted.GetProperty("playbackId").GetString()!);
        var keptFolder = Path.Combine(_data, "recordings", kept.GetProperty("playbackId").GetString()!);
        const UnixFileMode Folder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        const UnixFileMode Owner = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        if (!OperatingSystem.IsWindows())
        {
            Assert.That(File.GetUnixFileMode(Path.Combine(_data, "recordings")), Is.EqualTo(Folder));
            foreach (var folder in Directory.GetDirectories(keptFolder).Append(keptFolder))
            {
                Assert.That(File.GetUnixFileMode(folder), Is.EqualTo(Folder), folder);
            }

            foreach (var file in Directory.GetFiles(keptFolder, "*", SearchOption.AllDirectories))
            {
                Assert.That(File.GetUnixFileMode(file), Is.EqualTo(Owner), file);
            }
        }

        // Deleted: its recordings go from disk with it.
        Assert.That(await SendAsync(server, HttpMethod.Delete, $"v1/livestreams/{deleted.GetProperty("id").GetString()}"), Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That(Directory.Exists(deletedFolder), Is.False, "the recordings were deleted");

        // keepRecordings=true: the livestream is gone, its recordings are listed and deleted through the API as before.
        var keptId = kept.GetProperty("id").GetString()!;
        Assert.That(await SendAsync(server, HttpMethod.Delete, $"v1/livestreams/{keptId}?keepRecordings=yes"), Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await SendAsync(server, HttpMethod.Delete, $"v1/livestreams/{keptId}?keepRecordings=true"), Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That(await SendAsync(server, HttpMethod.Get, $"v1/livestreams/{keptId}"), Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(Directory.Exists(keptFolder), Is.True);
        var recordings = await ListAsync(server, kept);
        Assert.That(recordings, Has.Count.EqualTo(1));
        var session = recordings[0].GetProperty("id").GetString()!;
        Assert.That(await SendAsync(server, HttpMethod.Delete, $"v1/livestreams/{keptId}/recordings/{session}"), Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That(Directory.Exists(keptFolder), Is.False);
        Assert.That(await SendAsync(server, HttpMethod.Get, $"v1/livestreams/{keptId}/recordings"), Is.EqualTo(HttpStatusCode.NotFound), "gone with its last recording");
    }

    private async Task<HttpStatusCode> SendAsync(ServerProcess server, HttpMethod method, string path)
    {
        using var request = Request(method, server, path);
        using var response = await server.Http.SendAsync(request);
        return response.StatusCode;
    }

    // The sequence number of the last segment of a live playlist ({session}-{sequence}.ts), -1 when it has none.
    private static long LastSequence(string playlist)
    {
        var matches = Regex.Matches(playlist, @"-(\d+)\.ts");
        return matches.Count == 0 ? -1 : long.Parse(matches[^1].Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }
}
