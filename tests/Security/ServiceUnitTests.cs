using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using PdRdma.Hosting.Clusters;
using PdRdma.Hosting.Network;
using PdRdma.Hosting.Processes;
using PdRdma.Daemon.Client;
using PdRdma.Tests.Daemon;
using PdRdma.Transport;

namespace PdRdma.Tests.Security;

/// <summary>
/// deploy/pdrdmad.service is hardened (systemd-analyze's offline score ≤ 4.0), and the daemon does its job under the
/// unit's confinement: its own unprivileged user, no new privileges, CAP_IPC_LOCK as the only capability, a
/// read-only system with a private /tmp and no /root or /home — reproduced with unshare and setpriv, since tests do not
/// run under systemd as PID 1.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed partial class ServiceUnitTests
{
    private static string Unit => Path.Combine(RepositoryRoot(), "deploy", "pdrdmad.service");

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "PdRdma.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("PdRdma.sln not found above the test binaries");
    }

    [GeneratedRegex(@"Overall exposure level for pdrdmad\.service: (\d+\.\d+)")]
    private static partial Regex Score();

    [Fact]
    public async Task TheUnitScoresAtMostFourInSystemdAnalyzeSecurity()
    {
        Assert.True(File.Exists("/usr/bin/systemd-analyze") || File.Exists("/bin/systemd-analyze"), "systemd-analyze is missing: scripts/setup.sh installs it (apt-get install systemd)");
        var (code, output) = await RunAsync("systemd-analyze", "security", "--offline=true", "--no-pager", Unit);
        var match = Score().Match(output);
        Assert.True(match.Success, $"systemd-analyze printed no score (exit {code}):\n{output}");
        var score = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(score <= 4.0, $"deploy/pdrdmad.service scores {score} (target ≤ 4.0):\n{output}");

        var unit = await File.ReadAllTextAsync(Unit);
        foreach (var line in new[] { "User=pdrdma", "NoNewPrivileges=true", "ProtectSystem=strict", "ProtectHome=true", "PrivateTmp=true",
                     "CapabilityBoundingSet=CAP_IPC_LOCK", "LimitMEMLOCK=infinity", "RuntimeDirectory=pdrdma", "StateDirectory=pdrdma", "SystemCallFilter=@system-service" })
            Assert.Contains(line + "\n", unit);
        Assert.DoesNotContain("/dev/shm", unit.Split('\n').Where(l => l.StartsWith("ReadWritePaths", StringComparison.Ordinal))); // it maps descriptors, no engine files
    }

    [RootFact]
    public async Task TheDaemonServesUnderTheUnitsConfinement_Root()
    {
        var layout = new KvLayout(layers: 1, kvHeads: 1, headDim: 4, tokensPerBlock: 4, KvDType.Float32, blocks: 8);
        var secret = RandomNumberGenerator.GetBytes(32);
        // Its runtime directory: the one writable place (as RuntimeDirectory=), on /dev/shm so the test can reach the socket.
        var run = Path.Combine("/dev/shm", $"pdd-unit-{Environment.ProcessId}-{RandomNumberGenerator.GetHexString(6, lowercase: true)}");
        Directory.CreateDirectory(run);
        var folder = TestPaths.Scratch("unit");
        try
        {
            await RunAsync("chown", "65534:65534", run);
            int peer = FreePorts.One(), http = FreePorts.One();
            var checkout = RepoRoot.Find() ?? AppContext.BaseDirectory;
            var keep = Path.Combine(run, "checkout");
            var daemon = string.Join(' ', PdrdmaProgram.Cli.Line().Concat(["daemon", "--node-id", "node-u", "--socket", $"{run}/pdrdmad.sock", "--group", "",
                "--peer-listen", $"127.0.0.1:{peer}", "--http-listen", $"127.0.0.1:{http}"]).Select(Quote));
            var confine =
                "set -e; mount --make-rprivate /; mount --bind " + Quote(run) + " " + Quote(run) + "; " +
                // a checkout under /tmp, /root or /home (a fresh clone anywhere) stays reachable, read-only, at its own path
                "mkdir -p " + Quote(keep) + "; mount --bind " + Quote(checkout) + " " + Quote(keep) + "; mount -o remount,bind,ro / ; " +
                "mount -t tmpfs -o mode=1777 tmpfs /tmp; mount -t tmpfs -o mode=0 tmpfs /root; mount -t tmpfs -o mode=0 tmpfs /home; " +
                "mkdir -p " + Quote(checkout) + " 2>/dev/null || true; mount --bind " + Quote(keep) + " " + Quote(checkout) + " 2>/dev/null || true; " +
                "exec setpriv --reuid=65534 --regid=65534 --clear-groups --no-new-privs --bounding-set=-all,+ipc_lock --inh-caps=-all " + daemon;
            var command = new[] { "env", "HOME=/tmp", "DOTNET_CLI_HOME=/tmp", $"PDRDMA_Daemon__ClusterSecret={Convert.ToHexString(secret)}",
                "unshare", "--mount", "--fork", "--kill-child", "sh", "-c", confine };
            using var process = ChildProcess.Start("node-u", command, Path.Combine(folder, "node-u.log"));
            await WaitHealthyAsync(process, $"http://127.0.0.1:{http}/health");
            var status = await File.ReadAllTextAsync($"/proc/{ChildOf(process.Id)}/status");
            Assert.Contains("NoNewPrivs:\t1", status);
            Assert.Matches(@"Uid:\t65534\t65534", status);
            Assert.Contains("CapBnd:\t0000000000004000", status); // CAP_IPC_LOCK only

            // An engine whose pool file the daemon's user could not even open (0600, root): handed over by descriptor.
            using var pool = HostRegion.Create("pool", layout.TotalBytes, folder);
            await using var engine = await DaemonClient.ConnectAsync($"{run}/pdrdmad.sock", CancellationToken.None);
            await engine.RegisterPoolAsync("pool", pool, layout, CancellationToken.None);
            await engine.ReserveAsync("r1", "pool", [2], "node-a", TimeSpan.FromSeconds(30), CancellationToken.None);

            using var source = HostRegion.Create("src", layout.TotalBytes, folder);
            source.AsSpan(0, (int)layout.TotalBytes).Fill(0x77);
            await using var agent = new TransferAgent(new TransferAgentOptions { NodeId = "node-a", ClusterSecret = secret, Backend = BackendChoice.Tcp });
            agent.RegisterRegion(source);
            await agent.StartAsync(CancellationToken.None);
            await using var link = await agent.ConnectAsync(IPEndPoint.Parse($"127.0.0.1:{peer}"), CancellationToken.None);
            var extent = layout.Extent(0, KvPart.Key, 2);
            await link.WriteAsync(new WriteBatch([new WriteOp("src", 0, "pool", extent.Offset, layout.BlockBytes)]), CancellationToken.None);
            Assert.True(pool.AsSpan(extent.Offset, (int)layout.BlockBytes).IndexOfAnyExcept((byte)0x77) < 0, "the confined daemon did not place the write");
        }
        finally
        {
            try { Directory.Delete(run, recursive: true); } catch (IOException) { }
        }
    }

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''") + "'";

    /// <summary>The daemon: the process unshare forked (sh exec'd into setpriv, then into dotnet).</summary>
    private static int ChildOf(int pid) =>
        int.Parse(File.ReadAllText($"/proc/{pid}/task/{pid}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture);

    private static async Task WaitHealthyAsync(ChildProcess process, string url)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        for (var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60); DateTime.UtcNow < deadline; await Task.Delay(200))
        {
            if (process.HasExited) throw new InvalidOperationException($"the confined daemon exited:\n{process.Tail()}");
            try
            {
                if ((await http.GetAsync(url)).IsSuccessStatusCode) return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
        }
        throw new TimeoutException($"the confined daemon did not serve:\n{process.Tail()}");
    }

    private static async Task<(int Code, string Output)> RunAsync(params string[] command)
    {
        var info = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in command[1..]) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
