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

    [Test]
    public async Task TryUpdate_FromAStaleVersion_WritesNothing()
    {
        using var folder = MediaTestData.TempDirectory("livestream-store-cas");
        var (_, store, apiKey, _) = await StoreWithADeletedLivestreamAsync(folder);
        var read = await store.CreateAsync(apiKey, "a", record: false, PlaybackPolicy.Public, []);
        var reset = await store.TryUpdateAsync(read with { StreamKey = "new-key" });
        Assert.That(reset?.Version, Is.EqualTo(read.Version + 1));

        // A write based on the first read (the old key in it) loses instead of writing the old key back.
        Assert.That(await store.TryUpdateAsync(read with { Name = "renamed" }), Is.Null);
        var stored = await store.GetAsync(apiKey, read.Id);
        Assert.That((stored!.StreamKey, stored.Name, stored.Version), Is.EqualTo(("new-key", "a", read.Version + 1)));
        Assert.That((await store.FindByPlaybackIdAsync(read.PlaybackId))?.Version, Is.EqualTo(stored.Version), "the cache holds the winner");
    }

    [Test]
    public async Task Migration2_GivesExistingLivestreamsVersion1()
    {
        using var folder = MediaTestData.TempDirectory("livestream-store-migration");
        var (database, store, _, deleted) = await StoreWithADeletedLivestreamAsync(folder);
        await using (var connection = await database.OpenAsync())
        {
            await using var downgrade = connection.CreateCommand();
            downgrade.CommandText = "ALTER TABLE livestreams DROP COLUMN version; " + DropMigration3 + "PRAGMA user_version = 1;";
            await downgrade.ExecuteNonQueryAsync();
        }

        await InsertBehindTheStoreAsync(database, deleted.PlaybackId, "old");
        await database.MigrateAsync();
        var migrated = await new LivestreamStore(database, TimeProvider.System).FindByPlaybackIdAsync(deleted.PlaybackId);
        Assert.That(migrated?.Version, Is.EqualTo(1));
        _ = store;
    }

    [Test]
    public async Task Migration3_ExistingLivestreamsHaveNoRecordingLimitsAndAreNotDeleted()
    {
        using var folder = MediaTestData.TempDirectory("livestream-store-migration3");
        var (database, _, apiKey, deleted) = await StoreWithADeletedLivestreamAsync(folder);
        await using (var connection = await database.OpenAsync())
        {
            await using var downgrade = connection.CreateCommand();
            downgrade.CommandText = DropMigration3 + "PRAGMA user_version = 2;";
            await downgrade.ExecuteNonQueryAsync();
        }

        await InsertBehindTheStoreAsync(database, deleted.PlaybackId, "old");
        await database.MigrateAsync();
        var store = new LivestreamStore(database, TimeProvider.System);
        var migrated = await store.FindByPlaybackIdAsync(deleted.PlaybackId);
        Assert.That(migrated, Is.Not.Null);
        Assert.That((migrated!.RecordingLimits, migrated.DeletedAt), Is.EqualTo((RecordingLimits.None, (DateTimeOffset?)null)));

        // Kept recordings: the row stays, found only by the recordings API, until purged.
        await store.DeleteAsync(migrated, keepRecordings: true);
        Assert.That(await store.GetAsync(apiKey, migrated.Id), Is.Null);
        Assert.That(await store.FindByPlaybackIdAsync(migrated.PlaybackId), Is.Null);
        Assert.That(await store.FindByStreamKeyAsync(migrated.StreamKey), Is.Null);
        var tombstone = await store.GetWithRecordingsAsync(apiKey, migrated.Id);
        Assert.That(tombstone?.DeletedAt, Is.Not.Null);
        await store.PurgeAsync(tombstone!);
        Assert.That(await store.GetWithRecordingsAsync(apiKey, migrated.Id), Is.Null);
    }

    private const string DropMigration3 =
        "ALTER TABLE livestreams DROP COLUMN recording_max_duration_seconds; ALTER TABLE livestreams DROP COLUMN recording_max_bytes; " +
        "ALTER TABLE livestreams DROP COLUMN recording_retention_days; ALTER TABLE livestreams DROP COLUMN deleted_at; ";

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
