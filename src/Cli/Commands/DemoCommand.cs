using System.Text.Json;
using PdRdma.Cli.Demo;
using PdRdma.Hosting.Clusters;

namespace PdRdma.Cli.Commands;

/// <summary>
/// <c>pdrdma demo</c> — the main job: two nodes (daemon + engine each), the proxy, one prompt through the
/// disaggregated path and the same prompt colocated; prints the text, TTFT, TPOT, KV bytes, bandwidth, backend
/// and whether both outputs are identical. Stops everything it started, also on Ctrl-C.
/// </summary>
public static class DemoCommand
{
    public const string Help = "the main job: two nodes, daemons, prefill + decode engines, proxy, one prompt (--json, --model, --prompt, --max-tokens, --backend auto|shm|tcp|verbs (verbs: the nodes in two Soft-RoCE VMs; --vm-timeout S, --vm-port P), --prompt-len N, --loopback, --prefill-layout SPEC --decode-layout SPEC: engines with different KV layouts, translated; SPEC " + PdRdma.Transport.KvLayoutSpec.Syntax + ")";

    public static async Task<int> RunAsync(string[] args)
    {
        string model, prompt, backend;
        int maxTokens, vmPort, vmTimeout;
        bool json, loopback;
        PdRdma.Transport.KvLayoutSpec? prefillLayout = null, decodeLayout = null;
        try
        {
            var cli = new CliArgs(args, "--json", "--loopback");
            model = cli.Get("--model", Engines.Serving.ModelCatalog.Default);
            var promptLength = cli.GetInt("--prompt-len", 0);
            prompt = cli.Get("--prompt") ?? (promptLength > 0 ? SyntheticPrompt(promptLength) : "Once upon a time, a little robot");
            backend = cli.Get("--backend", "tcp");
            json = cli.Has("--json");
            loopback = cli.Has("--loopback");
            // Under emulated VMs a token costs about a second: a shorter default answer.
            maxTokens = cli.GetInt("--max-tokens", backend == "verbs" && !loopback ? 8 : 32);
            vmPort = cli.GetInt("--vm-port", 47000 + Environment.ProcessId % 1000);
            vmTimeout = cli.GetInt("--vm-timeout", 900);
            if (cli.Get("--prefill-layout") is { } pl) prefillLayout = PdRdma.Transport.KvLayoutSpec.Parse(pl);
            if (cli.Get("--decode-layout") is { } dl) decodeLayout = PdRdma.Transport.KvLayoutSpec.Parse(dl);
            cli.EnsureAllUsed();
            if (vmTimeout < 180) throw new ArgumentException($"--vm-timeout {vmTimeout}: at least 180 s (the VMs emulate their CPU; a run takes minutes)");
            if (backend is not ("auto" or "shm" or "tcp" or "verbs")) throw new ArgumentException($"--backend '{backend}' is unknown: auto, shm, tcp or verbs");
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync($"pdrdma demo: {e.Message}\nusage: pdrdma demo {Help}");
            return 2;
        }

        using var cancel = new CancellationTokenSource();
        LocalCluster? cluster = null;
        SoftRoceVmDemo? vms = null;
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancel.Cancel(); };
        EventHandler onExit = (_, _) => { cluster?.KillNow(); vms?.KillNow(); };
        Console.CancelKeyPress += onCancel;
        AppDomain.CurrentDomain.ProcessExit += onExit;
        var say = json ? TextWriter.Null : Console.Error;
        try
        {
            DemoResult result;
            if (prefillLayout is not null || decodeLayout is not null)
            {
                if (backend is "verbs" or "auto") throw new ArgumentException("--prefill-layout/--decode-layout run over shm or tcp");
                await say.WriteLineAsync("pdrdma demo: prefill and decode engines with different KV layouts, the KV translated and moved through two transfer agents...");
                result = await LayoutDemo.RunAsync(model, prompt, maxTokens, prefillLayout ?? new(), decodeLayout ?? new(),
                    backend == "shm" ? PdRdma.Transport.BackendChoice.Shm : PdRdma.Transport.BackendChoice.Tcp, cancel.Token);
            }
            else if (backend == "verbs" && !loopback)
            {
                // This host has no RDMA device: the nodes run in the two Soft-RoCE VMs, the KV crosses by RDMA WRITE.
                vms = SoftRoceVmDemo.Create();
                result = await vms.RunAsync(new VmDemoSpec { Model = model, Prompt = prompt, MaxTokens = maxTokens, WaitSeconds = vmTimeout - 60 }, vmPort, vmTimeout, say, cancel.Token);
            }
            else
            {
                var spec = new ClusterSpec { Model = model, Backend = backend, Namespaces = !loopback && LocalCluster.CanUseNamespaces, Prefix = "pdm" };
                await say.WriteLineAsync($"pdrdma demo: starting two nodes ({(spec.Namespaces ? "network namespaces" : "loopback")}), daemons, engines and the proxy...");
                cluster = await LocalCluster.StartAsync(spec, cancel.Token);
                await say.WriteLineAsync($"pdrdma demo: {cluster.Topology}; logs in {cluster.WorkDirectory} (kept only if it fails)");
                result = await DemoMeasurement.RunAsync(cluster.ColocatedUrl, cluster.ProxyUrl, prompt, maxTokens, model, cluster.Topology, TimeSpan.FromMinutes(5), cancel.Token);
            }
            DemoMeasurement.Print(result, prompt, json);
            return result.IdenticalToColocated ? 0 : 1;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("pdrdma demo: interrupted; stopping everything it started");
            return 130;
        }
        catch (Exception e) when (e is HttpRequestException or InvalidOperationException or TimeoutException or IOException or JsonException
            or PdRdma.Transport.TransferException or ArgumentException)
        {
            await Console.Error.WriteLineAsync($"pdrdma demo failed: {e.Message}");
            if (cluster is not null)
            {
                cluster.KeepLogs = true;
                await Console.Error.WriteLineAsync($"logs: {cluster.WorkDirectory}");
            }
            if (vms is not null)
            {
                vms.KeepLogs = true;
                await Console.Error.WriteLineAsync($"logs (node logs in logs-a/ logs-b/, VM consoles a.console b.console): {vms.SharedDirectory}");
            }
            return 1;
        }
        finally
        {
            if (cluster is not null) await cluster.DisposeAsync();
            if (vms is not null) await vms.DisposeAsync();
            Console.CancelKeyPress -= onCancel;
            AppDomain.CurrentDomain.ProcessExit -= onExit;
        }
    }

    /// <summary>A prompt of about <paramref name="length"/> tokens (characters for the toy model's tokenizer).</summary>
    private static string SyntheticPrompt(int length)
    {
        const string Story = "Once upon a time there was a little robot who liked to move memory between machines. ";
        var text = string.Concat(Enumerable.Repeat(Story, length / Story.Length + 1));
        return text[..length];
    }
}
