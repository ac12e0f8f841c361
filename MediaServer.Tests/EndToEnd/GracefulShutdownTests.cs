using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MediaServer.Tests.Infrastructure;

namespace MediaServer.Tests.EndToEnd;

/// <summary>
/// SIGTERM (systemd stop, Ctrl+C) while ffmpeg publishes to a recorded livestream: the server tells and
/// disconnects the publisher, ends the stream, finalizes the recording and exits 0.
/// </summary>
[TestFixture]
[NonParallelizable]
public class GracefulShutdownTests
{
    [Test]
    public async Task SigtermWhilePublishingARecordedLivestream_ExitsZero_PublisherDisconnected_RecordingFinalized()
    {
        var data = Path.Combine(Path.GetTempPath(), "mediaserver-tests", "shutdown-e2e-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (apiKey, _) = await ServerCli.CreateApiKeyAsync(data);
            var token = await ServerCli.TokenAsync(data, apiKey);
            var server = await ServerProcess.StartAsync(dataDirectory: data);
            try
            {
                using var create = new HttpRequestMessage(HttpMethod.Post, new Uri(server.HttpBase, "v1/livestreams"));
                create.Headers.TryAddWithoutValidation("Authorization", token);
                create.Content = JsonContent.Create(new { name = "shutdown", record = true });
                using var created = await server.Http.SendAsync(create);
                Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.OK), await created.Content.ReadAsStringAsync());
                var livestream = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.Clone();
                var playbackId = livestream.GetProperty("playbackId").GetString()!;

                using var publisher = Ffmpeg.StartPublishing(livestream.GetProperty("upstreamUrl").GetString()!, seconds: 120, out var publisherLog);
                try
                {
                    await HlsOutput.WaitForPlaylistAsync(server, playbackId, p => p.Split("#EXTINF").Length > 2, TimeSpan.FromSeconds(40));

                    ProcessRunner.Terminate(server.Process);
                    using (var exit = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
                    {
                        await server.Process.WaitForExitAsync(exit.Token);
                    }

                    Assert.That(server.Process.ExitCode, Is.Zero, server.Log);
                    using (var publisherExit = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
                    {
                        // The publisher's connection was closed by the server: ffmpeg stops on its own, long before its 120 s.
                        await publisher.WaitForExitAsync(publisherExit.Token);
                    }
                }
                finally
                {
                    ProcessRunner.KillQuietly(publisher);
                }

                var folder = Directory.GetDirectories(Path.Combine(data, "recordings", playbackId)).Single();
                var playlist = await File.ReadAllTextAsync(Path.Combine(folder, "index.m3u8"));
                Assert.Multiple(() =>
                {
                    Assert.That(playlist, Does.Contain("#EXT-X-PLAYLIST-TYPE:VOD\n").And.EndWith("#EXT-X-ENDLIST\n"), "the recording is finalized");
                    Assert.That(Directory.GetFiles(data, "*.tmp", SearchOption.AllDirectories), Is.Empty, "nothing half-written is left");
                    Assert.That(server.Log, Does.Contain($"Stream {playbackId} ended"), server.Log);
                    Assert.That(server.Log, Does.Contain($"HLS stream {playbackId} ended"), server.Log);
                    Assert.That(server.Log, Does.Not.Contain("Shutdown did not wait"), server.Log);
                    Assert.That(server.Log, Does.Contain("server shutting down; closing the publisher's connection"), server.Log);
                    Assert.That(server.Log, Does.Not.Contain("waiting").And.Not.Contain("taken over"), "a shutdown is neither a lost publisher nor a takeover:\n" + server.Log);
                });

                var decode = await Ffmpeg.DecodeAsync(Path.Combine(folder, "index.m3u8"), TimeSpan.FromSeconds(60));
                Assert.That(decode.ExitCode, Is.Zero, decode.ToString());
                Assert.That(decode.StandardError.Trim(), Is.Empty, decode.StandardError);
            }
            finally
            {
                await server.DisposeAsyncKeepData();
            }
        }
        finally
        {
            try
            {
                Directory.Delete(data, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
