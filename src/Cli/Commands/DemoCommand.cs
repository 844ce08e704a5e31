using System.CommandLine;
using PdRdma.Cli.Options;
using PdRdma.Hosting.CommandLine;
using PdRdma.Transport;
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
    private static readonly Option<string> Model = CliOptions.Text("--model", "the model both paths serve", Engines.Serving.ModelCatalog.Default);
    private static readonly Option<string> Prompt = CliOptions.Text("--prompt", "the prompt (default: a short story opening)");
    private static readonly Option<int> PromptLen = CliOptions.Int("--prompt-len", "a synthetic prompt of about N tokens instead of --prompt", 0, 0, 1 << 20);
    private static readonly Option<int> MaxTokens = CliOptions.Int("--max-tokens", "tokens to generate (0: 32, or 8 in the VMs)", 0, 0, 1 << 16);
    private static readonly Option<ClusterBackend> Backend = CliOptions.Choice("--backend", "transport between the nodes (verbs: the nodes in two Soft-RoCE VMs)", ClusterBackend.Tcp);
    private static readonly Option<bool> Json = CliOptions.Flag("--json", "print the result as one JSON object");
    private static readonly Option<bool> Loopback = CliOptions.Flag("--loopback", "loopback ports even when network namespaces are possible");
    private static readonly Option<int> VmPort = CliOptions.Int("--vm-port", "host port of the VMs' forwarded ports (verbs; 0: 47000 + PID % 1000)", 0, 0, 65535);
    private static readonly Option<int> VmTimeout = CliOptions.Int("--vm-timeout", "seconds the VM run may take (verbs)", 900, 180, 24 * 3600);
    private static readonly Option<KvLayoutSpec?> PrefillLayout = LayoutOption("--prefill-layout", "the prefill engine's KV layout");
    private static readonly Option<KvLayoutSpec?> DecodeLayout = LayoutOption("--decode-layout", "the decode engine's KV layout (different layouts: the KV is translated)");

    /// <summary>The command.</summary>
    public static Command Create()
    {
        var command = new Command("demo", "the main job: two nodes, daemons, prefill + decode engines, proxy, one prompt disaggregated and colocated")
        {
            Model, Prompt, PromptLen, MaxTokens, Backend, Json, Loopback, VmPort, VmTimeout, PrefillLayout, DecodeLayout,
        };
        command.SetAction((parse, _) => RunAsync(parse));
        return command;
    }

    private static Option<KvLayoutSpec?> LayoutOption(string name, string description) => new(name)
    {
        Description = $"{description}: {KvLayoutSpec.Syntax}", HelpName = "SPEC",
        CustomParser = r =>
        {
            try
            {
                return KvLayoutSpec.Parse(r.Tokens.Count > 0 ? r.Tokens[0].Value : "");
            }
            catch (ArgumentException e)
            {
                r.AddError($"{name}: {e.Message}");
                return null;
            }
        },
    };

    private static async Task<int> RunAsync(ParseResult parse)
    {
        var model = parse.GetValue(Model)!;
        var promptLength = parse.GetValue(PromptLen);
        var prompt = parse.GetValue(Prompt) ?? (promptLength > 0 ? SyntheticPrompt(promptLength) : "Once upon a time, a little robot");
        var backend = CliOptions.Name(parse.GetValue(Backend));
        var json = parse.GetValue(Json);
        var loopback = parse.GetValue(Loopback);
        // Under emulated VMs a token costs about a second: a shorter default answer.
        var maxTokens = parse.GetValue(MaxTokens) is > 0 and var n ? n : backend == "verbs" && !loopback ? 8 : 32;
        var vmPort = parse.GetValue(VmPort) is > 0 and var p ? p : 47000 + Environment.ProcessId % 1000;
        var vmTimeout = parse.GetValue(VmTimeout);
        var prefillLayout = parse.GetValue(PrefillLayout);
        var decodeLayout = parse.GetValue(DecodeLayout);
        if ((prefillLayout is not null || decodeLayout is not null) && backend is "verbs" or "auto")
            throw new UsageException("--prefill-layout/--decode-layout run over shm or tcp");

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
