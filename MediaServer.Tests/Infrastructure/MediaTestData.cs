using System.Buffers.Binary;
using System.Diagnostics;
using MediaServer.Core.Buffers;
using MediaServer.Core.Media;

namespace MediaServer.Tests.Infrastructure;

/// <summary>Builders for test frames and vectors, and an ffmpeg runner for generated media.</summary>
public static class MediaTestData
{
    /// <summary>
    /// avcC captured from <c>ffmpeg -f lavfi -i testsrc=size=320x240:rate=25 -c:v libx264 -profile:v high</c>
    /// (ffmpeg 5.1, x264), taken from the mp4's avcC box:
    /// 01 version | 64 profile High | 00 compat | 0d level 1.3 | ff lengthSizeMinusOne 3 | e1 one SPS
    /// 0019 SPS length 25 | 67 64 00 0d ac d9 41 41 fb 01 10 00 00 03 00 10 00 00 03 03 20 f1 42 99 60 (SPS)
    /// 01 one PPS | 0006 PPS length 6 | 68 eb e3 cb 22 c0 (PPS)
    /// fd f8 f8 00 high-profile extension: chroma 4:2:0, 8-bit luma/chroma, no SPS extensions.
    /// </summary>
    public const string X264HighAvcC = "0164000dffe100196764000dacd94141fb011000000300100000030320f142996001000668ebe3cb22c0fdf8f800";

    public static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));

    public static MediaFrame Frame(MediaKind kind, MediaCodec codec, FrameFlags flags, long timestamp, int cts, ReadOnlySpan<byte> payload) =>
        new(kind, codec, flags, timestamp, cts, MediaBuffer.CopyOf(payload));

    /// <summary>AVCC (4-byte lengths) from NAL units.</summary>
    public static byte[] Avcc(params byte[][] nalUnits)
    {
        var result = new List<byte>();
        foreach (var nal in nalUnits)
        {
            var length = new byte[4];
            BinaryPrimitives.WriteInt32BigEndian(length, nal.Length);
            result.AddRange(length);
            result.AddRange(nal);
        }

        return [.. result];
    }

    /// <summary>Annex B (4-byte start codes) from NAL units.</summary>
    public static byte[] AnnexB(params byte[][] nalUnits)
    {
        var result = new List<byte>();
        foreach (var nal in nalUnits)
        {
            result.AddRange(new byte[] { 0, 0, 0, 1 });
            result.AddRange(nal);
        }

        return [.. result];
    }

    /// <summary>Splits an Annex B byte stream (3- or 4-byte start codes) into NAL units (trailing zeros trimmed).</summary>
    public static List<byte[]> SplitAnnexB(ReadOnlySpan<byte> stream)
    {
        var units = new List<byte[]>();
        var reader = new MediaServer.Core.Codecs.AnnexBNalReader(stream);
        while (reader.TryRead(out var nal))
        {
            units.Add(nal.ToArray());
        }

        return units;
    }

    public static bool HasFfmpeg => File.Exists("/usr/bin/ffmpeg") && File.Exists("/usr/bin/ffprobe");

    /// <summary>Runs a tool, returns (exit code, stdout, stderr).</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(string tool, params string[] arguments)
    {
        var info = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(60_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{tool} did not finish in 60 s");
        }

        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>A fresh temporary directory, deleted on dispose.</summary>
    public static TempDirectory TempDirectory(string name) => new(name);
}

/// <summary>A temporary directory for generated media, deleted with its content on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory(string name)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "mediaserver-tests", name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public static implicit operator string(TempDirectory directory) => directory.Path;

    public override string ToString() => Path;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp directory is not a test failure.
        }
    }
}
