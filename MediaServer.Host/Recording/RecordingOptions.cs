namespace MediaServer.Host.Recording;

/// <summary>The <c>MediaServer:Recording</c> section: server-wide limits of recordings (per-livestream ones are in the API).</summary>
public sealed class RecordingOptions
{
    public const string SectionName = "Recording";

    /// <summary>
    /// Free space (bytes) the recordings must leave on their disk (default 1 GiB). A segment that would take the
    /// free space below it stops the recording (status <c>stopped</c>, reason <c>minFreeBytes</c>); the live stream
    /// goes on. 0 turns the floor off (a full disk still fails the recording).
    /// </summary>
    public long MinFreeBytes { get; set; } = 1L << 30;

    /// <summary>How often sessions older than their livestream's <c>retentionDays</c> are deleted (default 1 hour).</summary>
    public TimeSpan RetentionSweepInterval { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>The free space of the disk holding a folder (an interface so tests can make a disk fill up).</summary>
public interface IFreeSpaceProvider
{
    /// <summary>Bytes available to this process on the file system that holds <paramref name="directory"/> (an existing folder).</summary>
    long AvailableBytes(string directory);
}

/// <summary>The real free space, from <c>statvfs</c> through <see cref="DriveInfo"/>.</summary>
internal sealed class DriveFreeSpaceProvider : IFreeSpaceProvider
{
    public long AvailableBytes(string directory) => new DriveInfo(directory).AvailableFreeSpace;
}
