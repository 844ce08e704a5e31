using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using PdRdma.Hosting.Processes;

namespace PdRdma.Cli.Demo;

/// <summary>
/// <c>demo --backend verbs</c> on a host without an RDMA device: boots the two Soft-RoCE QEMU VMs of
/// vm/run-rdma-vms.sh (each sees this machine's root read-only, so the same build runs inside), node A in VM a and
/// node B in VM b, and reads the result node A leaves in the folder shared with both. The KV crosses between the
/// VMs by RDMA WRITE over rxe0. Disposing (or <see cref="KillNow"/>) stops the VMs.
/// </summary>
public sealed class SoftRoceVmDemo : IAsyncDisposable
{
    public const string Topology = "two Soft-RoCE QEMU VMs (TCG, rxe0 on a virtio NIC each): node A 198.18.47.1 (daemon, prefill, proxy, colocated), node B 198.18.47.2 (daemon, decode)";

    private readonly string _shared;
    private ChildProcess? _harness;

    private SoftRoceVmDemo(string shared) => _shared = shared;

    public string SharedDirectory => _shared;

    /// <summary>Keep the shared folder (node logs, VM consoles) after dispose, e.g. to look at a failure.</summary>
    public bool KeepLogs { get; set; }

    /// <summary>The repository's harness, or null when this build does not run from a checkout.</summary>
    public static string? FindHarness()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var script = Path.Combine(dir.FullName, "vm", "run-rdma-vms.sh");
            if (File.Exists(Path.Combine(dir.FullName, "PdRdma.sln")) && File.Exists(script)) return script;
        }
        return null;
    }

    public static SoftRoceVmDemo Create()
    {
        var harness = FindHarness() ?? throw new InvalidOperationException(
            "demo --backend verbs boots the Soft-RoCE VMs of vm/run-rdma-vms.sh, which this build cannot find: run it from a checkout (./pdrdma demo --backend verbs), or on hosts with an RDMA device run the nodes here with --loopback");
        var root = Path.GetDirectoryName(Path.GetDirectoryName(harness))!;
        var shared = Path.Combine(root, ".pdrdma", "vm", "out", $"demo-{Environment.ProcessId}-{RandomNumberGenerator.GetHexString(6, lowercase: true)}");
        Directory.CreateDirectory(shared);
        return new SoftRoceVmDemo(shared);
    }

    /// <summary>Boots both VMs, runs the nodes, and returns node A's measurement; throws with the nodes' own words when it fails.</summary>
    public async Task<DemoResult> RunAsync(VmDemoSpec spec, int port, int timeoutSeconds, TextWriter say, CancellationToken ct)
    {
        string Shared(string name) => Path.Combine(_shared, name);
        await File.WriteAllTextAsync(Shared(VmDemoSpec.Files.Spec), JsonSerializer.Serialize(spec), ct).ConfigureAwait(false);
        await File.WriteAllBytesAsync(Shared(VmDemoSpec.Files.Secret), RandomNumberGenerator.GetBytes(32), ct).ConfigureAwait(false);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(Shared(VmDemoSpec.Files.Secret), UnixFileMode.UserRead);

        var self = string.Join(' ', PdrdmaProgram.Cli.Line().Select(Quote));
        string Node(string role) => $"{self} demo-vm-node --role {role} --shared {Quote(_shared)}";
        var c = CultureInfo.InvariantCulture;
        string[] command = ["bash", FindHarness()!, "--out", _shared, "--timeout", timeoutSeconds.ToString(c), "--port", port.ToString(c),
            "--mem", "3072", "--", Node("a"), Node("b")];
        await say.WriteLineAsync($"pdrdma demo: booting two Soft-RoCE VMs (QEMU TCG: this takes minutes); shared folder {_shared}").ConfigureAwait(false);
        _harness = ChildProcess.Start("vms", command, Shared("harness.log"));
        using (var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            bounded.CancelAfter(TimeSpan.FromSeconds(timeoutSeconds + 60));
            try
            {
                await _harness.WaitForExitAsync(bounded.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new TimeoutException($"the VMs did not finish within {timeoutSeconds + 60} s; harness log {Shared("harness.log")}");
            }
        }
        var exit = _harness.ExitCode;
        if (File.Exists(Shared(VmDemoSpec.Files.Result)))
        {
            var result = JsonSerializer.Deserialize<DemoResult>(await File.ReadAllTextAsync(Shared(VmDemoSpec.Files.Result), ct).ConfigureAwait(false))
                ?? throw new InvalidOperationException("node A left an empty result");
            result.Topology = Topology;
            return result;
        }
        var why = new List<string>();
        foreach (var role in new[] { "a", "b" })
            if (File.Exists(Shared(VmDemoSpec.Files.Failed(role)))) why.Add($"node {role.ToUpperInvariant()}: {(await File.ReadAllTextAsync(Shared(VmDemoSpec.Files.Failed(role)), ct).ConfigureAwait(false)).Trim()}");
        if (exit == 3) why.Add("the VM prerequisites are missing (scripts/setup.sh --vm installs them)");
        throw new InvalidOperationException($"no result from the VMs (harness exit {exit}){(why.Count > 0 ? ": " + string.Join("; ", why) : "")}\nharness output:\n{_harness.Tail(30)}");
    }

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>Synchronous last-resort stop (process exit): kills the harness and the VMs under it.</summary>
    public void KillNow() => _harness?.Kill();

    public async ValueTask DisposeAsync()
    {
        if (_harness is not null)
        {
            // SIGTERM first: the harness's trap kills its VMs; then the whole tree, whatever is left.
            await _harness.StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            _harness.Kill();
            _harness.Dispose();
        }
        if (!KeepLogs)
        {
            try { Directory.Delete(_shared, recursive: true); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }
}
