using MediaServer.Host.Data;
using MediaServer.Tests.Infrastructure;

namespace MediaServer.Tests.Data;

/// <summary>The playback-id index of <see cref="LivestreamStore"/>, which every HLS request goes through.</summary>
[TestFixture]
public class LivestreamStoreTests
{
    [Test]
    public async Task FindByPlaybackId_RemembersAMiss_AndForgetsItWhenTheStoreWrites()
    {
        using var folder = MediaTestData.TempDirectory("livestream-store-miss");
        var (database, store, apiKey, deleted) = await StoreWithADeletedLivestreamAsync(folder);
        Assert.That(await store.FindByPlaybackIdAsync(deleted.PlaybackId), Is.Null);

        // Written behind the store's back: a remembered miss is still a miss (no query went to SQLite).
        await InsertBehindTheStoreAsync(database, deleted.PlaybackId, "x");
        Assert.That(await store.FindByPlaybackIdAsync(deleted.PlaybackId), Is.Null);

        // A write through the store replaces the remembered miss.
        var again = await store.CreateAsync(apiKey, "b", record: false, PlaybackPolicy.Signed, []);
        Assert.That((await store.FindByPlaybackIdAsync(again.PlaybackId))?.Name, Is.EqualTo("b"));
    }

    [Test]
    public async Task FindByPlaybackId_ManyMisses_AreForgottenPastTheBound()
    {
        using var folder = MediaTestData.TempDirectory("livestream-store-misses");
        var (database, store, _, deleted) = await StoreWithADeletedLivestreamAsync(folder);
        Assert.That(await store.FindByPlaybackIdAsync(deleted.PlaybackId), Is.Null); // remembered

        // Re-inserted behind the store's back, then enough other misses to pass the bound: the first miss is forgotten
        // and the next lookup reads the row.
        await InsertBehindTheStoreAsync(database, deleted.PlaybackId, "back");
        for (var i = 0; i < LivestreamStore.MaxCachedMisses; i++)
        {
            await store.FindByPlaybackIdAsync("missing-" + i);
        }

        Assert.That((await store.FindByPlaybackIdAsync(deleted.PlaybackId))?.Name, Is.EqualTo("back"));
    }

    private static async Task<(Database Database, LivestreamStore Store, string ApiKey, LivestreamRecord Deleted)> StoreWithADeletedLivestreamAsync(string folder)
    {
        var database = new Database(folder);
        await database.MigrateAsync();
        var store = new LivestreamStore(database, TimeProvider.System);
        var apiKey = (await new ApiKeyStore(database, TimeProvider.System).CreateAsync("test")).ApiKey;
        var created = await store.CreateAsync(apiKey, "a", record: false, PlaybackPolicy.Public, []);
        await store.DeleteAsync(created);
        return (database, store, apiKey, created);
    }

    private static async Task InsertBehindTheStoreAsync(Database database, string playbackId, string name)
    {
        await using var connection = await database.OpenAsync(CancellationToken.None);
        await using var insert = connection.CreateCommand();
        insert.CommandText = "INSERT INTO livestreams (id, api_key, name, record, stream_key, playback_id, playback_policy, enabled, restream_json, created_at, updated_at) " +
            "SELECT $id, api_key, $name, 0, $sk, $pid, 0, 1, '[]', created_at, created_at FROM api_keys LIMIT 1";
        insert.Parameters.AddWithValue("$id", "behind-" + name);
        insert.Parameters.AddWithValue("$name", name);
        insert.Parameters.AddWithValue("$sk", "sk-" + name);
        insert.Parameters.AddWithValue("$pid", playbackId);
        Assert.That(await insert.ExecuteNonQueryAsync(), Is.EqualTo(1));
    }
}
