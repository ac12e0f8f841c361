using MediaServer.Host.Recording;

namespace MediaServer.Tests.Recording;

/// <summary>The folder flush that makes a rename durable reaches libc on Linux and reports failures as IOException.</summary>
public class DirectorySyncTests
{
    [Test]
    public void Flush_AnExistingFolder_Succeeds()
    {
        var folder = Directory.CreateTempSubdirectory("mediaserver-dirsync-");
        try
        {
            File.WriteAllText(Path.Combine(folder.FullName, "a"), "x");
            Assert.DoesNotThrow(() => DirectorySync.Flush(folder.FullName));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Test]
    [Platform("Linux")]
    public void Flush_AMissingFolder_IsAnIOException()
    {
        var missing = Path.Combine(Path.GetTempPath(), "mediaserver-missing-" + Guid.NewGuid().ToString("N"));
        var error = Assert.Throws<IOException>(() => DirectorySync.Flush(missing));
        Assert.That(error!.Message, Does.Contain(missing));
    }
}
