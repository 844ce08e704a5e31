using System.Diagnostics;

namespace PdRdma.Tests.Daemon;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class EngineSocketPermissionTests
{
    [RootFact]
    public async Task OnlyTheServiceGroupMayOpenTheEngineSocket_Root()
    {
        var folder = TestPaths.Scratch("perm");
        File.SetUnixFileMode(folder, (UnixFileMode)0x1ED); // 0755: other users may reach the socket file, the socket's own mode decides
        using var daemon = await DaemonProcess.StartAsync(folder, "node-perm", TestPaths.SecretFile(folder), group: "daemon");
        var mode = File.GetUnixFileMode(daemon.Socket);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite, mode);
        Assert.Equal("1", (await RunAsync("stat", "-c", "%g", daemon.Socket)).Output.Trim()); // group "daemon" is gid 1

        // perl-base is on every Debian; the test's own runtime may live where the other user cannot read.
        const string Connect = "my $s = IO::Socket::UNIX->new(Peer => $ARGV[0]); if ($s) { print qq(connected\\n); exit 0 } print qq(denied: $!\\n); exit 3";
        var outsider = await RunAsync("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "perl", "-MIO::Socket::UNIX", "-e", Connect, daemon.Socket);
        Assert.Equal(3, outsider.Code);
        Assert.Contains("denied", outsider.Output);
        var member = await RunAsync("setpriv", "--reuid=65534", "--regid=65534", "--groups=1", "perl", "-MIO::Socket::UNIX", "-e", Connect, daemon.Socket);
        Assert.Equal(0, member.Code);
        Assert.Contains("connected", member.Output);
    }

    private static async Task<(int Code, string Output)> RunAsync(params string[] command)
    {
        var info = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in command[1..]) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
        return (process.ExitCode, output);
    }
}
