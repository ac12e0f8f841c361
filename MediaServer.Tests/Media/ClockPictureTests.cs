using MediaServer.Benchmarks.Latency;

namespace MediaServer.Tests.Media;

/// <summary>The latency verb's picture clock: what is drawn reads back, at any time this century and the next.</summary>
public class ClockPictureTests
{
    [TestCase(0L)]
    [TestCase(1_764_700_000_123L)]
    [TestCase((1L << 44) - 1)]
    public void Draw_ThenRead_GivesTheSameMilliseconds(long unixMs)
    {
        var frame = new byte[ClockPicture.Width * ClockPicture.Height];

        ClockPicture.Draw(frame, unixMs);

        Assert.That(ClockPicture.Read(frame), Is.EqualTo(unixMs));
    }
}
