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
        var database = new Database(folder);
        await database.MigrateAsync();
        var store = new LivestreamStore(database, TimeProvider.System);
        var apiKey = (await new ApiKeyStore(database, TimeProvider.System).CreateAsync("test")).ApiKey;
        var created = await store.CreateAsync(apiKey, "a", record: false, PlaybackPolicy.Public, []);
        await store.DeleteAsync(created);

        Assert.That(await store.FindByPlaybackIdAsync(created.PlaybackId), Is.Null);

        // Written behind the store's back: a remembered miss is still a miss (no query went to SQLite).
        await using (var connection = await database.OpenAsync(CancellationToken.None))
        await using (var insert = connection.CreateCommand())
        {
            insert.CommandText = "INSERT INTO livestreams (id, api_key, name, record, stream_key, playback_id, playback_policy, enabled, restream_json, created_at, updated_at) " +
                "SELECT 'x', api_key, 'x', 0, 'sk-x', $pid, 0, 1, '[]', created_at, created_at FROM api_keys LIMIT 1";
            insert.Parameters.AddWithValue("$pid", created.PlaybackId);
            Assert.That(await insert.ExecuteNonQueryAsync(), Is.EqualTo(1));
        }

        Assert.That(await store.FindByPlaybackIdAsync(created.PlaybackId), Is.Null);

        // A write through the store replaces the remembered miss.
        var again = await store.CreateAsync(apiKey, "b", record: false, PlaybackPolicy.Signed, []);
        Assert.That((await store.FindByPlaybackIdAsync(again.PlaybackId))?.Name, Is.EqualTo("b"));
    }

    [Test]
    public async Task FindByPlaybackId_ManyMisses_AreForgottenPastTheBound()
    {
        using var folder = MediaTestData.TempDirectory("livestream-store-misses");
        var database = new Database(folder);
        await database.MigrateAsync();
        var store = new LivestreamStore(database, TimeProvider.System);
        var apiKey = (await new ApiKeyStore(database, TimeProvider.System).CreateAsync("test")).ApiKey;
        var first = await store.CreateAsync(apiKey, "a", record: false, PlaybackPolicy.Public, []);
        await store.DeleteAsync(first);
        Assert.That(await store.FindByPlaybackIdAsync(first.PlaybackId), Is.Null); // remembered

        // Re-inserted behind the store's back, then enough other misses to pass the bound: the first miss is forgotten
        // and the next lookup reads the row.
        await using (var connection = await database.OpenAsync(CancellationToken.None))
        await using (var insert = connection.CreateCommand())
        {
            insert.CommandText = "INSERT INTO livestreams (id, api_key, name, record, stream_key, playback_id, playback_policy, enabled, restream_json, created_at, updated_at) " +
                "SELECT 'y', api_key, 'back', 0, 'sk-y', $pid, 0, 1, '[]', created_at, created_at FROM api_keys LIMIT 1";
            insert.Parameters.AddWithValue("$pid", first.PlaybackId);
            await insert.ExecuteNonQueryAsync();
        }

        for (var i = 0; i < LivestreamStore.MaxCachedMisses; i++)
        {
            await store.FindByPlaybackIdAsync("missing-" + i);
        }

        Assert.That((await store.FindByPlaybackIdAsync(first.PlaybackId))?.Name, Is.EqualTo("back"));
    }
}
