using MediaServer.Hls.Storage;
using static MediaServer.Tests.Hls.HlsTestKit;

namespace MediaServer.Tests.Hls;

public class HlsStreamStoreTests
{
    private static SegmentBuffer Bytes(int length)
    {
        var buffer = new SegmentBuffer();
        buffer.GetSpan(length)[..length].Fill(0x47);
        buffer.Advance(length);
        return buffer;
    }

    [Test]
    public void Sweep_EndedStreamAfterRetention_RemovesItAndReleasesSegments()
    {
        var options = Options();
        options.EndedStreamRetention = TimeSpan.FromSeconds(60);
        var time = new ManualTimeProvider(Epoch);
        var store = new HlsStreamStore(options);
        var stream = new HlsStream("cam", options, time);
        store.Add(stream);
        var segment = stream.AddSegment(2, 2000, false, Epoch, Bytes(1000))!;
        stream.MarkEnded();

        time.Advance(TimeSpan.FromSeconds(59));
        Assert.That(store.Sweep(), Is.Zero);
        Assert.That(store.Find("cam"), Is.SameAs(stream));
        Assert.That(System.Text.Encoding.UTF8.GetString(stream.Playlist!), Does.EndWith("#EXT-X-ENDLIST\n"));

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(store.Sweep(), Is.EqualTo(1));
        Assert.That(store.Find("cam"), Is.Null);
        Assert.That(segment.Buffer.RefCount, Is.Zero);
    }

    [Test]
    public void Sweep_LiveStream_IsKept()
    {
        var time = new ManualTimeProvider(Epoch);
        var store = new HlsStreamStore(Options());
        var stream = new HlsStream("cam", Options(), time);
        store.Add(stream);
        time.Advance(TimeSpan.FromHours(1));

        Assert.That(store.Sweep(), Is.Zero);
        Assert.That(store.Find("cam"), Is.SameAs(stream));
    }

    [Test]
    public void Add_SameStreamIdRepublished_ReplacesWithNewSessionAndReleasesOld()
    {
        var store = new HlsStreamStore(Options());
        var first = new HlsStream("cam", Options());
        store.Add(first);
        var old = first.AddSegment(2, 2000, false, Epoch, Bytes(10))!;
        var second = new HlsStream("cam", Options());

        store.Add(second);

        Assert.That(store.Find("cam"), Is.SameAs(second));
        Assert.That(second.SessionId, Is.Not.EqualTo(first.SessionId));
        Assert.That(old.Buffer.RefCount, Is.Zero);
    }

    [Test]
    public void TryAcquireSegment_LeasedDuringEviction_BufferSurvivesUntilReleased()
    {
        var store = new HlsStreamStore(Options());
        var stream = new HlsStream("cam", Options());
        store.Add(stream);
        stream.AddSegment(2, 2000, false, Epoch, Bytes(5000));
        Assert.That(stream.TryAcquireSegment(0, out var leased), Is.True);

        store.Remove(stream);

        Assert.That(leased!.Buffer.RefCount, Is.EqualTo(1));
        Assert.That(leased.Buffer.GetSequence().Length, Is.EqualTo(5000));
        leased.Buffer.Release();
        Assert.That(leased.Buffer.RefCount, Is.Zero);
    }

    [Test]
    public void AddSegment_AfterRemovalFromStore_ReleasesAndReturnsNull()
    {
        var store = new HlsStreamStore(Options());
        var stream = new HlsStream("cam", Options());
        store.Add(stream);
        store.Add(new HlsStream("cam", Options())); // republished while the old segmenter still runs
        var buffer = Bytes(10);

        Assert.That(stream.AddSegment(2, 2000, false, Epoch, buffer), Is.Null);
        Assert.That(buffer.RefCount, Is.Zero);
        store.Dispose();
    }

    [Test]
    public void AddSegment_AfterEnded_Throws()
    {
        using var stream = new HlsStream("cam", Options());
        stream.MarkEnded();

        Assert.That(() => stream.AddSegment(2, 2000, false, Epoch, Bytes(10)), Throws.InvalidOperationException);
    }

    [Test]
    public void AddSegment_TargetDuration_IsFixedByTheFirst()
    {
        var stream = new HlsStream("cam", Options(), sessionId: "x");
        stream.AddSegment(2, 2000, false, Epoch, Bytes(1));
        stream.AddSegment(5, 2000, false, Epoch, Bytes(1));

        Assert.That(stream.TargetDuration, Is.EqualTo(2));
        Assert.That(System.Text.Encoding.UTF8.GetString(stream.RenderPlaylist("t=1")!), Does.Contain("x-1.ts?t=1\n"));
        stream.Dispose();
    }
}
