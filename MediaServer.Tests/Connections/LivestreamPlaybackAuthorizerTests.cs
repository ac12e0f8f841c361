using MediaServer.Hls.Serving;
using MediaServer.Host.Auth;
using MediaServer.Host.Connections;
using MediaServer.Host.Data;
using MediaServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace MediaServer.Tests.Connections;

/// <summary>
/// A stream without a stored livestream plays only in open mode: otherwise it is what is left of a deleted one, and
/// must stay closed even once the store no longer remembers the deletion (its deleted-id cache is bounded and
/// cleared; a second store over the same database, as another process or a restarted cache, never saw it).
/// </summary>
[TestFixture]
public class LivestreamPlaybackAuthorizerTests
{
    [Test]
    public async Task DeletedSignedLivestream_StaysClosed_WhenTheStoreForgotTheDeletion()
    {
        using var folder = MediaTestData.TempDirectory("authorizer-deleted");
        var database = new Database(folder);
        await database.MigrateAsync();
        var keys = new ApiKeyStore(database, TimeProvider.System);
        var apiKey = (await keys.CreateAsync("owner")).ApiKey;
        var store = new LivestreamStore(database, TimeProvider.System);
        var signed = await store.CreateAsync(apiKey, "private", record: false, PlaybackPolicy.Signed, []);
        await store.DeleteAsync(signed);

        var forgetful = new LivestreamStore(database, TimeProvider.System); // no memory of the deletion
        Assert.That(forgetful.WasDeleted(signed.PlaybackId), Is.False, "the premise: this store never saw the delete");
        var authorizer = new LivestreamPlaybackAuthorizer(forgetful, keys, new AccessTokenValidator(keys, Options.Create(new AuthOptions())));
        var answer = await authorizer.AuthorizeAsync(new DefaultHttpContext(), signed.PlaybackId, HlsResourceKind.Segment);
        Assert.That(answer.IsAllowed, Is.False, "a deleted signed livestream's segments play for no one");
    }

    [Test]
    public async Task StreamWithoutALivestream_PlaysInOpenMode()
    {
        using var folder = MediaTestData.TempDirectory("authorizer-open");
        var database = new Database(folder);
        await database.MigrateAsync();
        var keys = new ApiKeyStore(database, TimeProvider.System);
        var authorizer = new LivestreamPlaybackAuthorizer(new LivestreamStore(database, TimeProvider.System), keys, new AccessTokenValidator(keys, Options.Create(new AuthOptions())));
        var answer = await authorizer.AuthorizeAsync(new DefaultHttpContext(), "open-mode-stream", HlsResourceKind.Playlist);
        Assert.That(answer.IsAllowed, Is.True, "no API key exists: every stream key is its own public stream");
    }
}
