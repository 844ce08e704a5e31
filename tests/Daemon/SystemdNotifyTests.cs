using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using PdRdma.Hosting.Clusters;
using PdRdma.Hosting.Processes;
using PdRdma.Hosting.Network;

namespace PdRdma.Tests.Daemon;

/// <summary>
/// The daemon under a service manager: started as PID 1 of its own PID namespace with NOTIFY_SOCKET set, which is
/// how Microsoft.Extensions.Hosting.Systemd recognises systemd besides a parent named systemd. The test is the
/// service manager's side of Type=notify: READY=1 once the daemon serves, STOPPING=1 on SIGTERM.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class SystemdNotifyTests
{
    [RootFact]
    public async Task Root_UnderAServiceManagerTheDaemonNotifiesReadyThenStopping()
    {
        var folder = TestPaths.Scratch("notify");
        var notifyPath = Path.Combine(folder, "notify.sock");
        using var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notify.Bind(new UnixDomainSocketEndPoint(notifyPath));

        int http = FreePorts.One();
        var info = new ProcessStartInfo("unshare") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "--pid", "--fork", "--kill-child" }.Concat(PdrdmaProgram.Cli.Line()).Concat(["daemon",
                     "--node-id", "node-notify", "--socket", Path.Combine(folder, "notify-daemon.sock"), "--group", "",
                     "--peer-listen", $"127.0.0.1:{FreePorts.One()}", "--http-listen", $"127.0.0.1:{http}",
                     "--secret-file", TestPaths.SecretFile(folder)]))
        {
            info.ArgumentList.Add(arg);
        }
        info.Environment["NOTIFY_SOCKET"] = notifyPath;
        using var unshare = Process.Start(info)!;
        var output = new StringBuilder();
        unshare.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        unshare.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        unshare.BeginOutputReadLine();
        unshare.BeginErrorReadLine();
        try
        {
            var ready = await ReceiveAsync(notify, TimeSpan.FromSeconds(60), output);
            Assert.Contains("READY=1", ready);
            using (var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) })
            {
                Assert.True((await client.GetAsync($"http://127.0.0.1:{http}/health")).IsSuccessStatusCode, "READY=1 came before the daemon served");
            }

            using (var term = Process.Start("pkill", ["-TERM", "-P", unshare.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!)
            {
                await term.WaitForExitAsync();
            }
            var stopping = await ReceiveAsync(notify, TimeSpan.FromSeconds(30), output);
            Assert.Contains("STOPPING=1", stopping);
            await unshare.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            if (!unshare.HasExited) unshare.Kill(entireProcessTree: true);
        }
    }

    private static async Task<string> ReceiveAsync(Socket socket, TimeSpan timeout, StringBuilder output)
    {
        var buffer = new byte[4096];
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            var count = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            return Encoding.UTF8.GetString(buffer, 0, count);
        }
        catch (OperationCanceledException)
        {
            lock (output) throw new TimeoutException($"no notification from the daemon within {timeout}:\n{output}");
        }
    }
}
