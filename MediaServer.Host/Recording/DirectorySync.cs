using System.ComponentModel;
using System.Runtime.InteropServices;

namespace MediaServer.Host.Recording;

/// <summary>
/// Flushes a folder's entries to disk (<c>fsync</c> on the folder), which is what makes a new or renamed file
/// durable on Linux: fsync of the file alone persists its bytes, not the name that points at them.
/// .NET opens no handle on a folder, so this goes to libc; elsewhere it does nothing.
/// </summary>
internal static class DirectorySync
{
    private const int ReadOnly = 0; // O_RDONLY: enough to fsync a folder, and the same value on every Linux architecture.

    public static void Flush(string directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var fd = Open(directory, ReadOnly);
        if (fd < 0)
        {
            throw new IOException($"Cannot open {directory} to flush it", new Win32Exception(Marshal.GetLastPInvokeError()));
        }

        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"Cannot flush {directory} to disk", new Win32Exception(Marshal.GetLastPInvokeError()));
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Fsync(int fd);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Close(int fd);
}
