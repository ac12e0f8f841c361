using MediaServer.Fuzzing;

namespace MediaServer.Tests.Fuzzing;

/// <summary>
/// Replays every corpus file of every fuzz target (seeds from the golden vectors and minimized findings)
/// through the same target functions afl-fuzz runs: any exception but the layer's documented ones, a broken
/// invariant or an allocation past the target's budget fails the case.
/// </summary>
public class FuzzCorpusTests
{
    /// <summary>Largest corpus file we keep: seeds and minimized findings are small by nature.</summary>
    private const int MaxCorpusFileLength = 64 * 1024;

    private static string CorpusRoot => Path.Combine(AppContext.BaseDirectory, "FuzzCorpus");

    public static IEnumerable<TestCaseData> CorpusFiles()
    {
        foreach (var target in FuzzTargets.All)
        {
            var folder = Path.Combine(CorpusRoot, target.Name);
            if (!Directory.Exists(folder))
            {
                continue; // Every_Target_HasACorpus reports it.
            }

            foreach (var file in Directory.EnumerateFiles(folder).Order(StringComparer.Ordinal))
            {
                yield return new TestCaseData(target.Name, Path.GetFileName(file)).SetName($"Replay_{target.Name}_{Path.GetFileName(file)}");
            }
        }
    }

    [TestCaseSource(nameof(CorpusFiles))]
    public void Replay_CorpusFile_OnlyDocumentedExceptionsAndBoundedMemory(string targetName, string fileName)
    {
        var target = FuzzTargets.Find(targetName)!;
        var bytes = File.ReadAllBytes(Path.Combine(CorpusRoot, targetName, fileName));
        Assert.That(bytes, Has.Length.LessThanOrEqualTo(MaxCorpusFileLength), "corpus files stay small");

        // Twice: the second run sees warm pools and caches, as the fuzzer's persistent mode does.
        Assert.DoesNotThrow(() => target.Run(bytes));
        Assert.DoesNotThrow(() => target.Run(bytes));
    }

    [Test]
    public void Every_Target_HasACorpus()
    {
        foreach (var target in FuzzTargets.All)
        {
            var folder = Path.Combine(CorpusRoot, target.Name);
            Assert.That(Directory.Exists(folder) && Directory.EnumerateFiles(folder).Any(), Is.True, $"corpus of {target.Name}");
        }

        foreach (var folder in Directory.EnumerateDirectories(CorpusRoot))
        {
            Assert.That(FuzzTargets.Find(Path.GetFileName(folder)), Is.Not.Null, $"{folder} names no target");
        }
    }

    [Test]
    public void Run_UndocumentedException_Escapes()
    {
        var target = new FuzzTarget("throws", "test", static input => throw new IndexOutOfRangeException(), 1024);

        Assert.Throws<IndexOutOfRangeException>(() => target.Run([1, 2, 3]));
    }

    [Test]
    public void Run_AllocationPastBudget_IsAFinding()
    {
        var target = new FuzzTarget("allocates", "test", static input => GC.KeepAlive(new byte[input.Length * 1024]), 1024);

        Assert.DoesNotThrow(() => target.Run([]));
        Assert.Throws<FuzzFindingException>(() => target.Run(new byte[64]));
    }
}
