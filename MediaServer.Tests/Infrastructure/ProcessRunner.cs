using System.Diagnostics;
using System.Text;

namespace MediaServer.Tests.Infrastructure;

/// <summary>The outcome of a finished external process.</summary>
internal sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError, bool TimedOut)
{
    public override string ToString() =>
        $"exit {ExitCode}{(TimedOut ? " (timed out)" : "")}\n--- stdout ---\n{Tail(StandardOutput)}\n--- stderr ---\n{Tail(StandardError)}";

    private static string Tail(string text) => text.Length <= 4000 ? text : "..." + text[^4000..];
}

/// <summary>Runs external tools (ffmpeg, ffprobe) with a hard timeout and captured output.</summary>
internal static class ProcessRunner
{
    public static async Task<ProcessResult> RunAsync(string fileName, IEnumerable<string> arguments, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var process = Start(fileName, arguments, out var stdout, out var stderr);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        var timedOut = false;
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            timedOut = true;
            KillQuietly(process);
            await process.WaitForExitAsync(CancellationToken.None);
        }

        process.WaitForExit(); // flush the async output readers
        return new ProcessResult(process.ExitCode, stdout.ToString(), stderr.ToString(), timedOut);
    }

    public static Process Start(string fileName, IEnumerable<string> arguments, out StringBuilder stdout, out StringBuilder stderr)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var output = new StringBuilder();
        var error = new StringBuilder();
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (output)
                {
                    output.AppendLine(e.Data);
                }
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (error)
                {
                    error.AppendLine(e.Data);
                }
            }
        };
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        stdout = output;
        stderr = error;
        return process;
    }

    public static void KillQuietly(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
        }
    }

    /// <summary>Sends SIGTERM (graceful shutdown), as systemd or Ctrl+C would.</summary>
    public static void Terminate(Process process)
    {
        if (process.HasExited)
        {
            return;
        }

        using var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false });
        kill?.WaitForExit();
    }
}
