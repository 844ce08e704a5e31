using System.Diagnostics;
using PdRdma.Tests.Daemon;

namespace PdRdma.Tests.Security;

/// <summary>
/// The daemon checks every engine connection's kernel credentials (SO_PEERCRED, SO_PEERGROUPS), not only the socket's
/// mode: even with the socket opened to everyone by mistake, another user gets AccessDenied and nothing else.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class PeerCredentialTests
{
    // perl-base is on every Debian; the test's own runtime may live where the other user cannot read.
    // Sends one Status frame (length 6: [1, 1, [10, []]]) and prints what comes back until the daemon closes.
    private const string StatusProbe =
        "my $s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or do { print qq(denied: $!\\n); exit 3 };" +
        "$| = 1; $s->syswrite(pack('V', 6) . pack('C*', 0x93, 1, 1, 0x92, 10, 0x90)); my $buf;" +
        "$SIG{ALRM} = sub { print qq(\\nstill open\\n); exit 4 }; alarm 3;" +
        "while ($s->sysread($buf, 65536)) { print $buf } print qq(\\nclosed\\n); exit 0";

    [RootFact]
    public async Task AnotherUserIsRefusedEvenWhenTheSocketIsOpenToAll_Root()
    {
        var folder = TestPaths.Scratch("cred");
        File.SetUnixFileMode(folder, (UnixFileMode)0x1ED); // 0755
        using var daemon = await DaemonProcess.StartAsync(folder, "node-cred", TestPaths.SecretFile(folder), group: "daemon");
        File.SetUnixFileMode(daemon.Socket, (UnixFileMode)0x1B6); // 0666: an operator's mistake the daemon must survive

        var outsider = await RunAsync("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "perl", "-MIO::Socket::UNIX", "-e", StatusProbe, daemon.Socket);
        Assert.Equal(0, outsider.Code); // closed by the daemon
        Assert.Contains("uid 65534 is not in group 'daemon'", outsider.Output);
        Assert.DoesNotContain("node-cred", outsider.Output); // no StatusReply

        // A member through a supplementary group (what `usermod -aG` gives) is served.
        var member = await RunAsync("setpriv", "--reuid=65534", "--regid=65534", "--groups=1", "perl", "-MIO::Socket::UNIX", "-e", StatusProbe, daemon.Socket);
        Assert.Contains("node-cred", member.Output); // its StatusReply
        Assert.Contains("still open", member.Output);
        Assert.Contains("uid 65534 is not in group 'daemon'", daemon.Process.Tail(200));
    }

    private static async Task<(int Code, string Output)> RunAsync(params string[] command)
    {
        var info = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in command[1..]) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
