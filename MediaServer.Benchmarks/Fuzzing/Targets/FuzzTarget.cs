namespace MediaServer.Fuzzing;

/// <summary>Feeds one input to a parser. Only the layer's documented exceptions may be caught inside.</summary>
public delegate void FuzzAction(ReadOnlySpan<byte> input);

/// <summary>
/// One fuzz target: a name (the corpus folder and the <c>fuzz</c> verb argument), the function, and the most
/// bytes one run may allocate whatever the input (the named limits of the layer, plus a small factor of the
/// input for copies), so that a length that lies cannot make us allocate what it claims.
/// </summary>
public sealed record FuzzTarget(string Name, string Description, FuzzAction Action, long AllocationBudget)
{
    /// <summary>
    /// Runs the target on <paramref name="input"/> and checks the allocation budget. Any exception that escapes
    /// is a finding: the target already caught the documented ones.
    /// </summary>
    public void Run(ReadOnlySpan<byte> input)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        Action(input);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        var budget = AllocationBudget + (64L * input.Length);
        if (allocated > budget)
        {
            throw new FuzzFindingException($"{Name}: one run allocated {allocated} bytes for {input.Length} bytes of input (budget {budget}).");
        }
    }
}

/// <summary>A broken invariant found by a fuzz target (never caught: it must crash the fuzzed process).</summary>
public sealed class FuzzFindingException : Exception
{
    public FuzzFindingException(string message)
        : base(message)
    {
    }

    public FuzzFindingException()
    {
    }

    public FuzzFindingException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Throws when <paramref name="condition"/> is false.</summary>
    public static void Check(bool condition, string invariant)
    {
        if (!condition)
        {
            throw new FuzzFindingException("Invariant broken: " + invariant);
        }
    }
}
