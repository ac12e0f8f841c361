using MediaServer.Rtmp.Session;

namespace MediaServer.Tests.Rtmp;

public class AcknowledgementWindowTests
{
    [Test]
    public void TryTakeAcknowledgement_AfterEachWindow_WithTheTotalWrappingAt32Bits()
    {
        var window = new AcknowledgementWindow(1000);
        window.Received(999);
        Assert.That(window.TryTakeAcknowledgement(out _), Is.False);

        window.Received(1);
        Assert.That(window.TryTakeAcknowledgement(out var first), Is.True);
        Assert.That(first, Is.EqualTo(1000u));
        Assert.That(window.TryTakeAcknowledgement(out _), Is.False, "one per window");

        window.Received(uint.MaxValue); // past 4 GiB: the sequence number wraps
        Assert.That(window.TryTakeAcknowledgement(out var wrapped), Is.True);
        Assert.That(wrapped, Is.EqualTo(unchecked((uint)(1000L + uint.MaxValue))));
    }

    [Test]
    public void ReceivedUnacknowledged_TheHandshake_CountsInTheSequenceButNotTowardTheFirstWindow()
    {
        var window = new AcknowledgementWindow(1000);
        window.ReceivedUnacknowledged(3073);
        window.Received(999);
        Assert.That(window.TryTakeAcknowledgement(out _), Is.False, "a window after the handshake, not 3073 bytes early");

        window.Received(1);
        Assert.That(window.TryTakeAcknowledgement(out var first), Is.True);
        Assert.That(first, Is.EqualTo(4073u), "the sequence number counts every byte received");
    }

    [Test]
    public void SetWindow_ChangesWhenTheNextAcknowledgementIsDue_ZeroIgnored()
    {
        var window = new AcknowledgementWindow(1000);
        window.SetWindow(0);
        window.SetWindow(10);
        window.Received(10);
        Assert.That(window.Window, Is.EqualTo(10u));
        Assert.That(window.TryTakeAcknowledgement(out var n), Is.True);
        Assert.That(n, Is.EqualTo(10u));
    }

    [Test]
    public void ShouldAnnounce_OnlyWhenThePeerBandwidthDiffersFromTheLastAnnounced()
    {
        var window = new AcknowledgementWindow(2_500_000);
        window.Announced(2_500_000);
        Assert.That(window.ShouldAnnounce(2_500_000), Is.False);
        Assert.That(window.ShouldAnnounce(0), Is.False);
        Assert.That(window.ShouldAnnounce(5_000_000), Is.True);
        Assert.That(window.ShouldAnnounce(5_000_000), Is.False, "announced now");
    }
}
