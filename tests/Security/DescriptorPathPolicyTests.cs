using System.Diagnostics;
using PdRdma.Tests.Daemon;
using PdRdma.Transport;
using PdRdma.Transport.Backends.SharedMemory;

namespace PdRdma.Tests.Security;

/// <summary>
/// A daemon that received an engine's pool by descriptor advertises it to shm peers as /proc/PID/fd/N. The initiator
/// opens such a path only when PID runs as its own user and the descriptor is a memfd or a region file.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class DescriptorPathPolicyTests
{
    private static string Root => HostRegion.DefaultDirectory;

    [Fact]
    public void ARegionHeldByAProcessOfThisUserIsAccepted()
    {
        using var region = HostRegion.Create("kv", 4096);
        var path = $"/proc/{Environment.ProcessId}/fd/{region.FileHandle.DangerousGetHandle()}";
        Assert.Null(SharedPathPolicy.Refusal(path, Root));
    }

    [Fact]
    public void ADescriptorOfAnyOtherFileIsRefused()
    {
        using var other = File.OpenHandle("/etc/hostname", FileMode.Open, FileAccess.Read);
        var why = SharedPathPolicy.Refusal($"/proc/{Environment.ProcessId}/fd/{other.DangerousGetHandle()}", Root);
        Assert.NotNull(why);
        Assert.Contains("neither a memfd nor a file in", why);
    }

    [Theory]
    [InlineData("/proc/self/fd/3")]
    [InlineData("/proc/1/fd/../../1/environ")]
    [InlineData("/proc/1/environ")]
    [InlineData("/proc/99999999999/fd/1")]
    [InlineData("/proc/1/fd/-1")]
    [InlineData("/proc//fd/1")]
    public void MalformedDescriptorPathsAreRefused(string path)
    {
        Assert.NotNull(SharedPathPolicy.Refusal(path, Root));
    }

    [RootFact]
    public void ARegionHeldByAProcessOfAnotherUserIsRefused()
    {
        using var region = HostRegion.Create("kv", 4096);
        var psi = new ProcessStartInfo("/bin/sh")
        {
            ArgumentList = { "-c", $"exec /usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups -- sleep 30 < '{region.SharedPath}'" },
        };
        using var nobody = Process.Start(psi)!;
        try
        {
            var path = $"/proc/{nobody.Id}/fd/0";
            string? why = null;
            for (var i = 0; i < 100; i++)
            {
                why = SharedPathPolicy.Refusal(path, Root);
                if (why is not null && why.Contains("another user", StringComparison.Ordinal)) break;
                Thread.Sleep(20);
            }
            Assert.NotNull(why);
            Assert.Contains("another user", why);
        }
        finally
        {
            nobody.Kill();
            nobody.WaitForExit();
        }
    }
}
