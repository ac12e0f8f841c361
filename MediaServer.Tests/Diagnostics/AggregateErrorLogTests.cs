using MediaServer.Core.Diagnostics;
using MediaServer.Tests.Hls;
using MediaServer.Tests.Rtmp.Infrastructure;

namespace MediaServer.Tests.Diagnostics;

public class AggregateErrorLogTests
{
    [Test]
    public void Add_FirstThenOncePerInterval_CountsEveryOccurrence()
    {
        var logger = new ListLogger();
        var time = new ManualTimeProvider(HlsTestKit.Epoch);
        var log = new AggregateErrorLog(logger, "RTMP peer", "malformed frame(s) dropped", TimeSpan.FromSeconds(10), time);

        Assert.That(log.Add("TruncatedHeader", "body ends"), Is.True);
        for (var i = 0; i < 99; i++)
        {
            Assert.That(log.Add("TruncatedHeader"), Is.False);
        }

        time.Advance(TimeSpan.FromSeconds(10));
        Assert.That(log.Add("InvalidPacketType"), Is.True);

        Assert.That(log.Count, Is.EqualTo(101));
        Assert.That(logger.Warnings, Is.EqualTo(new[]
        {
            "RTMP peer: 1 malformed frame(s) dropped so far (last: TruncatedHeader: body ends)",
            "RTMP peer: 101 malformed frame(s) dropped so far (last: InvalidPacketType)",
        }));
    }

    [Test]
    public void Complete_LogsTheTotalOnlyWhenSomethingWentUnlogged()
    {
        var logger = new ListLogger();
        var log = new AggregateErrorLog(logger, "HLS stream cam", "frame(s) refused", TimeSpan.FromHours(1), new ManualTimeProvider(HlsTestKit.Epoch));
        log.Add(1);
        log.Complete();
        Assert.That(logger.Warnings, Has.Count.EqualTo(1), "everything was logged already");

        log.Add(2);
        log.Add(3);
        log.Complete();
        log.Complete();
        Assert.That(logger.Warnings[^1], Is.EqualTo("HLS stream cam: 3 frame(s) refused in total"));
        Assert.That(logger.Warnings, Has.Count.EqualTo(2));
    }
}
