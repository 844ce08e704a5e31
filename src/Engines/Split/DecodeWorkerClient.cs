using System.Diagnostics;
using System.Text.Json;
using PdRdma.Engines.Generation;
using PdRdma.Engines.Kv;
using PdRdma.Engines.Sampling;
using PdRdma.Transport;

namespace PdRdma.Engines.Split;

/// <summary>
/// The prefill side of a two-process split on one host: starts a decode worker process, maps its KV pool region,
/// and for each request reserves blocks there, prefills locally while writing each finished layer's blocks straight
/// into the worker's region, then has the worker decode. Not thread-safe; kills the worker on dispose.
/// </summary>
public sealed class DecodeWorkerClient : IDisposable
{
    private readonly Process _process;
    private readonly HostRegion _peerRegion;
    private readonly KvLayout _peerLayout;
    private readonly TimeSpan _timeout;

    private DecodeWorkerClient(Process process, HostRegion peerRegion, KvLayout peerLayout, TimeSpan timeout)
    {
        _process = process;
        _peerRegion = peerRegion;
        _peerLayout = peerLayout;
        _timeout = timeout;
    }

    public TimeSpan LastTransferTime { get; private set; }

    public long LastTransferBytes { get; private set; }

    public TimeSpan LastTimeToFirstToken { get; private set; }

    /// <summary>Starts <c>dotnet pdrdmaDll decode-worker workerArgs</c> and waits (bounded) for its hello.</summary>
    public static async Task<DecodeWorkerClient> StartAsync(string pdrdmaDll, IEnumerable<string> workerArgs, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = false, UseShellExecute = false };
        psi.ArgumentList.Add(pdrdmaDll);
        psi.ArgumentList.Add("decode-worker");
        foreach (var a in workerArgs) psi.ArgumentList.Add(a);
        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start the decode worker");
        try
        {
            var hello = await ReadAsync(process, timeout, cancellationToken).ConfigureAwait(false);
            if (hello.Op != "hello" || hello.Layout is not { Length: 6 } l || hello.RegionPath is null)
            {
                throw new TransferException(TransferErrorCode.Protocol, $"decode worker said '{hello.Op}' ({hello.Message}) instead of hello");
            }
            var layout = new KvLayout(l[0], l[1], l[2], l[3], (KvDType)l[4], l[5]);
            var region = HostRegion.Open("decode-pool", hello.RegionPath, hello.RegionLength);
            return new DecodeWorkerClient(process, region, layout, timeout);
        }
        catch
        {
            Kill(process);
            throw;
        }
    }

    /// <summary>One split generation: reserve on the worker, prefill here with per-layer writes, decode there.</summary>
    public async Task<GenerationResult> GenerateAsync(PrefillEngine prefill, string requestId, GenerationRequest request, Action<int>? onToken = null, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        prefill.Pool.Layout.EnsureCompatibleWith(_peerLayout);
        Send(new WorkerMessage { Op = "reserve", RequestId = requestId, PromptLength = request.PromptTokens.Count });
        var lease = await ExpectAsync("lease", cancellationToken).ConfigureAwait(false);
        var targetBlocks = lease.Blocks!;
        var copyTime = TimeSpan.Zero;
        long bytes = 0;
        PrefillResult result;
        try
        {
            result = prefill.Prefill(request.PromptTokens, request.Sampling, (layer, blocks) =>
            {
                var start = Stopwatch.GetTimestamp();
                foreach (var c in KvHandoff.LayerCopies(prefill.Pool.Layout, blocks, _peerLayout, targetBlocks, layer))
                {
                    prefill.Pool.Region.AsSpan(c.SourceOffset, checked((int)c.Length)).CopyTo(_peerRegion.AsSpan(c.TargetOffset, checked((int)c.Length)));
                    bytes += c.Length;
                }
                copyTime += Stopwatch.GetElapsedTime(start);
            });
        }
        catch
        {
            Send(new WorkerMessage { Op = "release", RequestId = requestId });
            await ExpectAsync("released", cancellationToken).ConfigureAwait(false);
            throw;
        }
        prefill.Release(result);
        LastTransferTime = copyTime;
        LastTransferBytes = bytes;
        LastTimeToFirstToken = clock.Elapsed;
        Send(new WorkerMessage
        {
            Op = "resume",
            RequestId = requestId,
            Prompt = [.. request.PromptTokens],
            FirstToken = result.FirstToken,
            RngState = result.RngState,
            MaxNewTokens = request.MaxNewTokens,
            Temperature = request.Sampling.Temperature,
            TopP = request.Sampling.TopP,
            Seed = request.Sampling.Seed,
        });
        var tokens = new List<int>();
        while (true)
        {
            var m = await ReadAsync(_process, _timeout, cancellationToken).ConfigureAwait(false);
            if (m.Op == "token")
            {
                tokens.Add(m.Token);
                onToken?.Invoke(m.Token);
            }
            else if (m.Op == "done")
            {
                return new GenerationResult(request.PromptTokens, tokens, Enum.Parse<StopReason>(m.Reason!));
            }
            else
            {
                throw new TransferException(TransferErrorCode.Protocol, $"decode worker: {m.Message ?? m.Op}");
            }
        }
    }

    private async Task<WorkerMessage> ExpectAsync(string op, CancellationToken cancellationToken)
    {
        var m = await ReadAsync(_process, _timeout, cancellationToken).ConfigureAwait(false);
        if (m.Op != op) throw new TransferException(TransferErrorCode.Protocol, $"decode worker: {m.Message ?? m.Op} (expected {op})");
        return m;
    }

    private void Send(WorkerMessage message)
    {
        _process.StandardInput.WriteLine(JsonSerializer.Serialize(message));
        _process.StandardInput.Flush();
    }

    private static async Task<WorkerMessage> ReadAsync(Process process, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        string? text;
        try
        {
            text = await process.StandardOutput.ReadLineAsync(limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TransferException(TransferErrorCode.Timeout, $"decode worker (pid {process.Id}) said nothing for {timeout.TotalSeconds:F0} s");
        }
        if (text is null) throw new TransferException(TransferErrorCode.PeerLost, $"decode worker (pid {process.Id}) exited");
        return JsonSerializer.Deserialize<WorkerMessage>(text) ?? throw new TransferException(TransferErrorCode.Protocol, "empty line from decode worker");
    }

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
        process.Dispose();
    }

    public void Dispose()
    {
        _peerRegion.Dispose();
        try
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(TimeSpan.FromSeconds(5))) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }
}
