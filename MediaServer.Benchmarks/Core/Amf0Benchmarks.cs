using BenchmarkDotNet.Attributes;
using MediaServer.Benchmarks.Infrastructure;
using MediaServer.Benchmarks.Inputs;
using MediaServer.Core.Amf;

namespace MediaServer.Benchmarks.Core;

/// <summary>
/// AMF0 decoding with <see cref="Amf0Reader"/> of what OBS sends once per publish: the <c>connect</c> command
/// and <c>@setDataFrame onMetaData</c>. Not a per-frame path: decoding into the value model (strings, boxed
/// numbers, <see cref="AmfObject"/>) allocates by design; the rows show how much.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(MediaBenchmarkConfig))]
public class Amf0Benchmarks
{
    private byte[] _connect = [];
    private byte[] _setDataFrame = [];

    [GlobalSetup]
    public void Setup()
    {
        _connect = Amf0Samples.ObsConnect();
        _setDataFrame = Amf0Samples.ObsSetDataFrame();
        if (DecodeObsConnect() is not AmfObject { Count: 6 } || DecodeObsSetDataFrame() is not AmfEcmaArray { Count: 20 })
        {
            throw new InvalidOperationException("The AMF0 samples did not decode as expected.");
        }
    }

    /// <summary>Command name, transaction id, then every value (the command object), as RtmpCommand.Parse reads them.</summary>
    [Benchmark]
    [MediaThroughput(MediaInput.ObsConnect)]
    public object? DecodeObsConnect()
    {
        var reader = new Amf0Reader(_connect);
        _ = reader.ReadString();
        _ = reader.ReadNumber();
        object? last = null;
        while (!reader.IsEmpty)
        {
            last = reader.ReadValue();
        }

        return last;
    }

    /// <summary>The <c>@setDataFrame</c> and <c>onMetaData</c> names, then the ECMA array of properties.</summary>
    [Benchmark]
    [MediaThroughput(MediaInput.ObsSetDataFrame)]
    public object? DecodeObsSetDataFrame()
    {
        var reader = new Amf0Reader(_setDataFrame);
        _ = reader.ReadString();
        _ = reader.ReadString();
        return reader.ReadValue();
    }
}
