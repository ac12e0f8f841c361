using MediaServer.Host.Data;
using MediaServer.Tests.Hls;

namespace MediaServer.Tests.Data;

public class ApiKeyStoreTests
{
    private string _directory = null!;
    private Database _database = null!;
    private ManualTimeProvider _time = null!;
    private ApiKeyStore _keys = null!;

    [SetUp]
    public async Task SetUp()
    {
        _directory = Path.Combine(Path.GetTempPath(), "mediaserver-keys-" + Guid.NewGuid().ToString("N"));
        _database = new Database(_directory);
        await _database.MigrateAsync();
        _time = new ManualTimeProvider(HlsTestKit.Epoch);
        _keys = new ApiKeyStore(_database, _time);
    }

    [TearDown]
    public void TearDown()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Test]
    public async Task FindCached_KeyRevokedByAnotherProcess_IsRefusedOnceTheCacheTimeIsUp()
    {
        var key = await _keys.CreateAsync("test");
        Assert.That((await _keys.FindCachedAsync(key.ApiKey))!.IsRevoked, Is.False);

        // The CLI is another process: its own store over the same database file.
        Assert.That(await new ApiKeyStore(_database, TimeProvider.System).RevokeAsync(key.ApiKey), Is.True);
        _time.Advance(ApiKeyStore.CacheFor - TimeSpan.FromMilliseconds(1));
        Assert.That((await _keys.FindCachedAsync(key.ApiKey))!.IsRevoked, Is.False, "answered from memory");
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.That((await _keys.FindCachedAsync(key.ApiKey))!.IsRevoked, Is.True, "read again after CacheFor");
    }

    [Test]
    public async Task FindCached_KeyRevokedThroughThisStore_IsRefusedAtOnce()
    {
        var key = await _keys.CreateAsync("test");
        Assert.That((await _keys.FindCachedAsync(key.ApiKey))!.IsRevoked, Is.False);
        await _keys.RevokeAsync(key.ApiKey);
        Assert.That((await _keys.FindCachedAsync(key.ApiKey))!.IsRevoked, Is.True);
    }

    [Test]
    public async Task FindCached_UnknownKeys_AreRememberedBoundedly()
    {
        var unknown = Guid.NewGuid().ToString("D");
        Assert.That(await _keys.FindCachedAsync(unknown), Is.Null);
        var other = await new ApiKeyStore(_database, TimeProvider.System).CreateAsync("late");
        Assert.That(await _keys.FindCachedAsync(other.ApiKey), Is.Not.Null, "a miss is only cached for the key asked");

        // A flood of forged keys fills the cache with misses; it stops growing and keeps the real key.
        for (var i = 0; i < ApiKeyStore.MaxCachedKeys + 10; i++)
        {
            await _keys.FindCachedAsync(Guid.NewGuid().ToString("D"));
        }

        Assert.That(_keys.CachedKeys, Is.LessThanOrEqualTo(ApiKeyStore.MaxCachedKeys));
        Assert.That(await _keys.FindCachedAsync(other.ApiKey), Is.Not.Null);
    }

    [TestCase("not-a-key")]
    [TestCase("")]
    public async Task FindCached_ClaimThatIsNoGuid_IsUnknownAndNotRemembered(string claim)
    {
        Assert.That(await _keys.FindCachedAsync(claim + new string('x', 6000)), Is.Null);
        Assert.That(_keys.CachedKeys, Is.Zero);
    }

    [Test]
    public async Task AnyKeyExists_SeesAKeyMadeByAnotherProcess_WithinTheRecheck_AndStaysTrue()
    {
        Assert.That(await _keys.AnyKeyExistsAsync(), Is.False);

        // The CLI is another process: its store is not this one.
        var cli = await new ApiKeyStore(_database, TimeProvider.System).CreateAsync("cli");
        Assert.That(await _keys.AnyKeyExistsAsync(), Is.False, "a miss is believed for a moment");
        _time.Advance(ApiKeyStore.NoKeyRecheck);
        Assert.That(await _keys.AnyKeyExistsAsync(), Is.True);

        await _keys.RevokeAsync(cli.ApiKey);
        _time.Advance(TimeSpan.FromHours(1));
        Assert.That(await _keys.AnyKeyExistsAsync(), Is.True, "a revoked key still ends open mode");
    }

    [Test]
    public async Task AnyKeyExists_KeyCreatedThroughThisStore_IsSeenAtOnce()
    {
        Assert.That(await _keys.AnyKeyExistsAsync(), Is.False);
        await _keys.CreateAsync("here");
        Assert.That(await _keys.AnyKeyExistsAsync(), Is.True);
    }
}
