using System.Diagnostics.Metrics;
using MediaServer.Hls;
using Microsoft.Extensions.DependencyInjection;
using static MediaServer.Tests.Hls.HlsTestKit;

namespace MediaServer.Tests.Hls;

/// <summary>
/// The HLS instruments: every lead-track frame is counted once when a playlist lists it (in a part with LL-HLS, in a
/// segment without), with its wait since it arrived; only the listener of this test's meter factory sees them.
/// </summary>
public class HlsMetricsTests
{
    /// <summary>Collects the measurements of one meter factory's <c>MediaServer</c> meter.</summary>
    internal sealed class Recorder : IDisposable
    {
        private readonly ServiceProvider? _services;
        private readonly MeterListener _listener = new();

        /// <param name="factory">The meter factory to listen to; null: a new one.</param>
        public Recorder(IMeterFactory? factory = null)
        {
            if (factory is null)
            {
                _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
                factory = _services.GetRequiredService<IMeterFactory>();
            }

            Metrics = new HlsMetrics(factory);
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
            {
                lock (Values)
                {
                    Values.Add((instrument.Name, value, tags.Length == 0 ? "" : $"{tags[0].Key}={tags[0].Value}"));
                }
            });
            _listener.Start();
        }

        public HlsMetrics Metrics { get; }

        public List<(string Name, double Seconds, string Tag)> Values { get; } = [];

        public List<(string Name, double Seconds, string Tag)> Snapshot()
        {
            lock (Values)
            {
                return [.. Values];
            }
        }

        public void Dispose()
        {
            _listener.Dispose();
            _services?.Dispose();
        }
    }

    [TestCase(false, TestName = "Classic_EveryVideoFrameCountedOnceWhenItsSegmentIsListed")]
    [TestCase(true, TestName = "LowLatency_EveryVideoFrameCountedOnceWhenItsPartIsListed")]
    public void FramesListed_EachLeadFrameOnce(bool parts)
    {
        using var recorder = new Recorder();
        using var h = new SegmenterHarness(partDuration: parts ? TimeSpan.FromMilliseconds(500) : null, metrics: recorder.Metrics);
        h.Feed(VideoConfig());
        h.Feed(AudioConfig());
        h.FeedVideo(0, 150, gopFrames: 50); // 6 s: segments 0-2 complete; the last segment's frames are listed at the end
        for (var at = 0; at < 6000; at += 23)
        {
            h.Feed(Audio(at)); // audio does not lead: not counted
        }

        var beforeEnd = recorder.Values.Count;
        h.Segmenter.Complete();

        var listed = recorder.Values.Where(v => v.Name == "hls.frame_listed_seconds").ToList();
        Assert.That(listed, Has.Count.EqualTo(150), "150 video frames, each once");
        Assert.That(listed.Select(v => v.Tag).Distinct(), Is.EqualTo(new[] { "container=ts" }));
        Assert.That(listed.All(v => v.Seconds is >= 0 and < 30), Is.True);
        Assert.That(beforeEnd, parts ? Is.GreaterThan(100) : Is.LessThanOrEqualTo(100),
            parts ? "parts list frames as they go" : "without parts, the frames of the open segment wait for it");
    }

    [Test]
    public void FrameListed_MeasuresTheWaitSinceItsArrival()
    {
        using var recorder = new Recorder();
        using var h = new SegmenterHarness(partDuration: TimeSpan.FromMilliseconds(500), metrics: recorder.Metrics);
        h.Feed(VideoConfig());
        h.FeedVideo(0, 51, gopFrames: 50); // the keyframe at 2000 closes segment 0 and fixes the target (2 s)
        var listedBefore = recorder.Values.Count;

        Thread.Sleep(120); // frame 2000 waits for the frames that close its part
        h.FeedVideo(0, 66, gopFrames: 1000, skip: 51); // 2040 .. 2600: the part closes before 2520

        var waits = recorder.Values.Skip(listedBefore).Select(v => v.Seconds).ToList();
        Assert.That(waits, Is.Not.Empty, "a part closed");
        Assert.That(waits.Max(), Is.GreaterThanOrEqualTo(0.12), "the part's first frame waited at least the sleep");
    }

    [Test]
    public void NoListener_RecordsNothingAndCostsNoAllocationPerFrame()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = new HlsMetrics(services.GetRequiredService<IMeterFactory>());
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        metrics.FrameListed(HlsContainer.Ts, start, start);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            metrics.FrameListed(HlsContainer.Fmp4, start, start);
            metrics.BlockedAnswered(part: true, start);
        }

        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }
}
