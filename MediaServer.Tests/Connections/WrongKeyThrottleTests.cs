using System.Net;
using MediaServer.Host.Connections;
using MediaServer.Tests.Hls;

namespace MediaServer.Tests.Connections;

/// <summary>The wrong-stream-key slowdown: its schedule, what counts as one address, forgetting, and its bound.</summary>
[TestFixture]
public class WrongKeyThrottleTests
{
    private static readonly IPAddress s_v4 = IPAddress.Parse("203.0.113.7");

    private static (WrongKeyThrottle Throttle, ManualTimeProvider Time) Create(int maxAddresses = 100_000)
    {
        var time = new ManualTimeProvider(HlsTestKit.Epoch);
        return (new WrongKeyThrottle(new WrongKeyOptions { MaxAddresses = maxAddresses }, time), time);
    }

    [Test]
    public void RecordFailure_FiveFree_ThenDoublingFrom250ms_CappedAt5s()
    {
        var (throttle, _) = Create();
        var delays = Enumerable.Range(0, 12).Select(_ => throttle.RecordFailure(s_v4).TotalMilliseconds).ToArray();
        Assert.That(delays, Is.EqualTo(new double[] { 0, 0, 0, 0, 0, 250, 500, 1000, 2000, 4000, 5000, 5000 }));
    }

    [Test]
    public void RecordFailure_IPv6_CountsPer64_AndMappedIPv4AsIPv4()
    {
        var (throttle, _) = Create();
        for (var i = 0; i < 5; i++)
        {
            throttle.RecordFailure(IPAddress.Parse($"2001:db8:1:2::{i + 1:x}"));
        }

        Assert.That(throttle.RecordFailure(IPAddress.Parse("2001:db8:1:2:ffff:1:2:3")), Is.EqualTo(TimeSpan.FromMilliseconds(250)), "same /64");
        Assert.That(throttle.RecordFailure(IPAddress.Parse("2001:db8:1:3::1")), Is.EqualTo(TimeSpan.Zero), "another /64");

        for (var i = 0; i < 5; i++)
        {
            throttle.RecordFailure(s_v4);
        }

        Assert.That(throttle.RecordFailure(s_v4.MapToIPv6()), Is.EqualTo(TimeSpan.FromMilliseconds(250)), "::ffff:203.0.113.7 is 203.0.113.7");
        Assert.That(throttle.RecordFailure(IPAddress.Parse("203.0.113.8")), Is.EqualTo(TimeSpan.Zero));
    }

    [Test]
    public void RecordFailure_AfterTenIdleMinutes_StartsAgain()
    {
        var (throttle, time) = Create();
        for (var i = 0; i < 8; i++)
        {
            throttle.RecordFailure(s_v4);
        }

        time.Advance(TimeSpan.FromMinutes(9));
        Assert.That(throttle.RecordFailure(s_v4), Is.EqualTo(TimeSpan.FromSeconds(2)), "9 minutes is not idle enough");
        time.Advance(TimeSpan.FromMinutes(10));
        Assert.That(throttle.RecordFailure(s_v4), Is.EqualTo(TimeSpan.Zero));
    }

    [Test]
    public void RecordFailure_FullTable_SweepsIdleAddresses_ElseNewOnesGetTheLongestDelay()
    {
        var (throttle, time) = Create(maxAddresses: 100);
        for (var i = 0; i < 100; i++)
        {
            throttle.RecordFailure(new IPAddress([10, 0, 0, (byte)i]));
        }

        Assert.That(throttle.Count, Is.EqualTo(100));
        Assert.That(throttle.RecordFailure(IPAddress.Parse("10.0.1.1")), Is.EqualTo(TimeSpan.FromSeconds(5)), "no room: not free");
        Assert.That(throttle.RecordFailure(new IPAddress([10, 0, 0, 1])), Is.EqualTo(TimeSpan.Zero), "known addresses are still counted");
        Assert.That(throttle.Count, Is.EqualTo(100));

        time.Advance(TimeSpan.FromMinutes(11));
        Assert.That(throttle.RecordFailure(IPAddress.Parse("10.0.1.1")), Is.EqualTo(TimeSpan.Zero), "idle ones were swept");
        Assert.That(throttle.Count, Is.EqualTo(1));
    }

    [Test]
    public void RecordFailure_FromManyThreads_CountsEveryOne()
    {
        var (throttle, _) = Create();
        var delays = new TimeSpan[1000];
        Parallel.For(0, delays.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => delays[i] = throttle.RecordFailure(s_v4));
        // Counted and decided in one step: exactly 1000 counted and exactly the five first ones free.
        Assert.That(throttle.FailuresOf(s_v4), Is.EqualTo(1000));
        Assert.That(delays.Count(d => d == TimeSpan.Zero), Is.EqualTo(5));
    }
}
