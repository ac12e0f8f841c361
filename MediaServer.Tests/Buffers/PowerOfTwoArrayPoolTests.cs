using MediaServer.Core.Buffers;

namespace MediaServer.Tests.Buffers;

public class PowerOfTwoArrayPoolTests
{
    [Test]
    public void Rent_RoundsUpToAPowerOfTwo_AndReusesWhatCameBack()
    {
        var pool = new PowerOfTwoArrayPool(1 << 20);
        var array = pool.Rent(5000);
        Assert.That(array, Has.Length.EqualTo(8192));
        pool.Return(array);
        Assert.That(pool.RetainedBytes, Is.EqualTo(8192));
        Assert.That(pool.Rent(8000), Is.SameAs(array));
        Assert.That(pool.RetainedBytes, Is.Zero);
    }

    [Test]
    public void Return_OverTheBudget_IsLeftToTheGc()
    {
        var pool = new PowerOfTwoArrayPool(10_000);
        pool.Return(new byte[8192]);
        pool.Return(new byte[8192]);
        pool.Return(new byte[1000]); // not a power of two: never ours
        Assert.That(pool.RetainedBytes, Is.EqualTo(8192));
    }

    [Test]
    public void Trim_ArraysFreeAllInterval_AreLetGo_ArraysInUseStay()
    {
        var pool = new PowerOfTwoArrayPool(1 << 24);
        var arrays = Enumerable.Range(0, 10).Select(_ => pool.Rent(65536)).ToList();
        arrays.ForEach(pool.Return); // a burst comes back: 10 free
        Assert.That(pool.Trim(out _), Is.Zero, "they were in use during this interval");

        // A steady load cycles through 3 of them each interval; 7 sit free all along.
        for (var interval = 0; interval < 3; interval++)
        {
            var used = Enumerable.Range(0, 3).Select(_ => pool.Rent(65536)).ToList();
            used.ForEach(pool.Return);
            var dropped = pool.Trim(out _);
            Assert.That(dropped, Is.EqualTo(interval == 0 ? 7 * 65536 : 0), $"interval {interval}");
        }

        Assert.That(pool.RetainedBytes, Is.EqualTo(3 * 65536), "what the load cycles through stays");
        var again = Enumerable.Range(0, 3).Select(_ => pool.Rent(65536)).ToList();
        Assert.That(again.All(a => arrays.Any(b => ReferenceEquals(a, b))), Is.True, "and is reused");
        again.ForEach(pool.Return);

        // The load stops: one interval later the pool is empty.
        Assert.That(pool.Trim(out var rented), Is.Zero, "rented during the interval");
        Assert.That(rented, Is.True);
        Assert.That(pool.Trim(out rented), Is.EqualTo(3 * 65536));
        Assert.That(rented, Is.False, "an idle interval");
        Assert.That(pool.RetainedBytes, Is.Zero);
    }

    [Test]
    public void Trim_WhileOtherThreadsRentAndReturn_KeepsTheCountRight()
    {
        var pool = new PowerOfTwoArrayPool(1 << 26);
        using var stop = new CancellationTokenSource();
        var workers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 200_000 && !stop.IsCancellationRequested; i++)
            {
                pool.Return(pool.Rent(1024 << (i % 4)));
            }
        })).ToArray();
        while (!workers.All(w => w.IsCompleted))
        {
            pool.Trim(out _);
        }

        Task.WaitAll(workers);
        pool.Trim(out _);
        pool.Trim(out _);
        Assert.That(pool.RetainedBytes, Is.Zero, "every byte counted in was counted out");
    }
}
