using System.Buffers;

namespace MediaServer.Host.Recording;

/// <summary>
/// How recording folders and files are created: readable by the server's user only (folders 0700, files 0600 on
/// Unix, as the database file is), and written durably (temporary name, <c>fsync</c>, rename, <c>fsync</c> of the folder).
/// </summary>
internal static class RecordingFiles
{
    public const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    public const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    public const string TempSuffix = ".tmp";

    /// <summary>Creates <paramref name="path"/> and any missing parent, each 0700 (umask permitting).</summary>
    public static void CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            // The mode applies to the folder named only, not to the parents .NET creates on the way: one at a time.
            var missing = new Stack<string>();
            for (var folder = Path.GetFullPath(path); folder is not null && !Directory.Exists(folder); folder = Path.GetDirectoryName(folder))
            {
                missing.Push(folder);
            }

            while (missing.TryPop(out var folder))
            {
                Directory.CreateDirectory(folder, DirectoryMode);
            }
        }
    }

    /// <summary>Makes an existing folder 0700 (one made by an older version, 0755 by the umask).</summary>
    public static void RestrictDirectory(string path)
    {
        if (!OperatingSystem.IsWindows() && Directory.Exists(path))
        {
            File.SetUnixFileMode(path, DirectoryMode);
        }
    }

    /// <summary>Opens a file for writing, created 0600.</summary>
    public static FileStream Open(string path, System.IO.FileMode mode, FileShare share = FileShare.None)
    {
        var options = new FileStreamOptions { Mode = mode, Access = FileAccess.Write, Share = share, BufferSize = 0 };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = FileMode;
        }

        return new FileStream(path, options);
    }

    /// <summary>Writes a file under a temporary name, flushes it to disk and renames it over <paramref name="path"/>.</summary>
    public static void WriteDurably(string path, ReadOnlySequence<byte> bytes) =>
        WriteDurably(path, bytes, static (file, bytes) =>
        {
            foreach (var memory in bytes)
            {
                file.Write(memory.Span);
            }
        });

    /// <summary>
    /// Writes a file with <paramref name="write"/> under a temporary name, flushes it to disk, renames it over
    /// <paramref name="path"/> and flushes the folder, so the rename itself survives a power loss.
    /// </summary>
    public static void WriteDurably<TState>(string path, TState state, Action<FileStream, TState> write)
    {
        var temp = path + TempSuffix;
        using (var file = Open(temp, System.IO.FileMode.Create))
        {
            write(file, state);
            file.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
        DirectorySync.Flush(Path.GetDirectoryName(path)!);
    }

    public static bool IsTemporary(string path) => path.EndsWith(TempSuffix, StringComparison.Ordinal);
}
