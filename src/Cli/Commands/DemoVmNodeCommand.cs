using System.CommandLine;
using PdRdma.Hosting.CommandLine;
using System.Text.Json;
using PdRdma.Cli.Demo;
using PdRdma.Hosting.Clusters;

namespace PdRdma.Cli.Commands;

/// <summary>
/// <c>pdrdma demo-vm-node --role a|b --shared DIR</c> (internal): one node of <c>demo --backend verbs</c>, run inside
/// a Soft-RoCE VM by vm/run-rdma-vms.sh. Node B runs daemon + decode engine until node A says it is done; node A
/// runs daemon + prefill engine + proxy + colocated engine, waits for node B, measures, and leaves result.json in
/// the shared folder for the host.
/// </summary>
public static class DemoVmNodeCommand
{
    private static readonly Option<string> Role = new("--role") { Description = "which node this VM runs", HelpName = "a|b", Required = true };
    private static readonly Option<DirectoryInfo> SharedDir = new("--shared") { Description = "the folder the host and both VMs share (spec.json, secret, logs, result)", HelpName = "DIR", Required = true };

    /// <summary>The command (internal: run inside the VMs by demo --backend verbs, not listed in help).</summary>
    public static Command Create()
    {
        Role.AcceptOnlyFromAmong("a", "b");
        var command = new Command("demo-vm-node", "one node of demo --backend verbs inside a Soft-RoCE VM") { Role, SharedDir };
        command.Hidden = true;
        command.SetAction((parse, _) => RunAsync(parse.GetValue(Role)!, parse.GetValue(SharedDir)!.FullName));
        return command;
    }

    private static async Task<int> RunAsync(string role, string shared)
    {
        VmDemoSpec spec;
        try
        {
            spec = JsonSerializer.Deserialize<VmDemoSpec>(await File.ReadAllTextAsync(Path.Combine(shared, VmDemoSpec.Files.Spec)))
                ?? throw new JsonException("empty spec.json");
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            throw new UsageException($"--shared {shared}: {e.Message}");
        }

        string Shared(string name) => Path.Combine(shared, name);
        string? OtherFailed() => File.Exists(Shared(VmDemoSpec.Files.Failed(role == "a" ? "b" : "a")))
            ? $"node {(role == "a" ? "B" : "A")} failed: {File.ReadAllText(Shared(VmDemoSpec.Files.Failed(role == "a" ? "b" : "a"))).Trim()}"
            : null;
        var logs = Directory.CreateDirectory(Shared(VmDemoSpec.Files.Logs(role))).FullName;
        var wait = TimeSpan.FromSeconds(spec.WaitSeconds);
        var clusterSpec = new ClusterSpec
        {
            Model = spec.Model,
            Backend = spec.Backend,
            NodeAddresses = (spec.NodeA, spec.NodeB),
            OnlyNode = role,
            SecretFile = Shared(VmDemoSpec.Files.Secret),
            LogDirectory = logs,
            SlowHost = true,
            TokenTimeoutSeconds = 300,
            // The first request's verbs handshake and a prefill under TCG take longer than the default 30 s lease; on a
            // loaded host the first link alone took 4.5 min (CI, 2026-11-30: a 300 s lease expired before the KV moved).
            LeaseTtlSeconds = 900,
            Prefix = "pdv",
        };
        using var cancel = new CancellationTokenSource(wait + TimeSpan.FromMinutes(1));
        LocalCluster? cluster = null;
        try
        {
            Console.WriteLine($"node {role}: starting its parts (logs in {logs})");
            cluster = await LocalCluster.StartAsync(clusterSpec, cancel.Token);
            if (role == "b")
            {
                await File.WriteAllTextAsync(Shared(VmDemoSpec.Files.BReady), DateTime.UtcNow.ToString("O"), cancel.Token);
                Console.WriteLine("node b: daemon and decode engine up; waiting for node a to finish");
                while (!File.Exists(Shared(VmDemoSpec.Files.Done)) && !cancel.IsCancellationRequested)
                    await Task.Delay(500, cancel.Token);
                return 0;
            }
            Console.WriteLine("node a: daemon, prefill, proxy and colocated engine up; waiting for node b");
            await LocalCluster.WaitReachableAsync(cluster.DecodeUrl + "/health", wait, OtherFailed, cancel.Token);
            var result = await DemoMeasurement.RunAsync(cluster.ColocatedUrl, cluster.ProxyUrl, spec.Prompt, spec.MaxTokens, spec.Model, "", TimeSpan.FromMinutes(10), cancel.Token);
            var line = JsonSerializer.Serialize(result, DemoMeasurement.Json);
            Console.WriteLine(line);
            await File.WriteAllTextAsync(Shared(VmDemoSpec.Files.Result), line, cancel.Token);
            return 0;
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or HttpRequestException or IOException or JsonException or OperationCanceledException)
        {
            var why = e is OperationCanceledException ? $"gave up after {wait.TotalSeconds + 60:0} s" : e.Message;
            await Console.Error.WriteLineAsync($"node {role} failed: {why}");
            await File.WriteAllTextAsync(Shared(VmDemoSpec.Files.Failed(role)), why, CancellationToken.None);
            return 1;
        }
        finally
        {
            if (role == "a") await File.WriteAllTextAsync(Shared(VmDemoSpec.Files.Done), "", CancellationToken.None);
            if (cluster is not null)
            {
                cluster.KeepLogs = false;
                await cluster.DisposeAsync();
            }
        }
    }
}
