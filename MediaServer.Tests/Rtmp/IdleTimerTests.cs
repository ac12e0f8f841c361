using MediaServer.Rtmp.Session;

namespace MediaServer.Tests.Rtmp;

public class IdleTimerTests
{
    [Test]
    public async Task Arm_NoTouch_CancelsAfterTheTimeout()
    {
        using var cts = new CancellationTokenSource();
        var timer = new IdleTimer(cts, TimeSpan.FromMilliseconds(200));
        timer.Arm();

        await Task.Delay(TimeSpan.FromSeconds(5), cts.Token).ContinueWith(_ => { }, TaskScheduler.Default);

        Assert.That(cts.IsCancellationRequested, Is.True);
    }

    [Test]
    public async Task Touch_KeepsTheConnectionAliveWhileDataArrives()
    {
        using var cts = new CancellationTokenSource();
        var timer = new IdleTimer(cts, TimeSpan.FromMilliseconds(400));
        timer.Arm();
        for (var i = 0; i < 20; i++)
        {
            await Task.Delay(50);
            timer.Touch();
        }

        Assert.That(cts.IsCancellationRequested, Is.False, "1 s of data every 50 ms against a 400 ms timeout");
    }

    [Test]
    public async Task Disarm_SilenceIsAllowed_TouchDoesNotRearm()
    {
        using var cts = new CancellationTokenSource();
        var timer = new IdleTimer(cts, TimeSpan.FromMilliseconds(100));
        timer.Arm();
        timer.Disarm();
        timer.Touch();

        await Task.Delay(400);

        Assert.That(cts.IsCancellationRequested, Is.False);
    }
}
