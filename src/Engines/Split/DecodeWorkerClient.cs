using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using PdRdma.Engines.Generation;
using PdRdma.Engines.Kv;
using PdRdma.Transport;
using PdRdma.Transport.Cuda;

namespace PdRdma.Engines.Split;

/// <summary>
/// The prefill side of a two-process split: starts a decode worker process, connects a <see cref="TransferAgent"/>
/// to the worker's, and for each request reserves blocks there, prefills locally while each finished layer's blocks
/// are written into the worker's pool (one batch per layer, in flight while the next layer computes; the last batch
/// carries the request id as its notification), then has the worker decode. One request at a time; kills the worker
/// on dispose.
/// </summary>
public sealed class DecodeWorkerClient : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TransferAgent? _agent;
    private readonly PeerConnection? _connection;
    private readonly CudaDeviceRegion? _peerDevicePool;
    private readonly string _peerRegionId;
    private readonly KvLayout _peerLayout;
    private readonly PrefillEngine _prefill;
    private readonly TimeSpan _timeout;

    private DecodeWorkerClient(Process process, TransferAgent? agent, PeerConnection? connection, CudaDeviceRegion? peerDevicePool, string peerRegionId, KvLayout peerLayout,
        PrefillEngine prefill, TimeSpan timeout)
    {
        _process = process;
        _agent = agent;
        _connection = connection;
        _peerDevicePool = peerDevicePool;
        _peerRegionId = peerRegionId;
        _peerLayout = peerLayout;
        _prefill = prefill;
        _timeout = timeout;
    }

    /// <summary>Process id of the decode worker.</summary>
    public int WorkerProcessId => _process.Id;

    /// <summary>"shm" or "tcp": the backend the transfer agent chose for the worker; "cuda-ipc" when both pools are on one GPU.</summary>
    public string Backend => _connection?.Backend ?? "cuda-ipc";

    public string BackendReason => _connection?.BackendReason ?? "both KV pools are on the GPU: the decode pool is opened through its CUDA IPC handle and written device to device";

    /// <summary>Last request: from the resume message to the worker's done (the decode phase, seen from this process).</summary>
    public TimeSpan LastDecodeTime { get; private set; }

    /// <summary>Last request: time between the end of prefill compute and the last KV byte being in place (the part of transfer not hidden by compute).</summary>
    public TimeSpan LastExposedTransferTime { get; private set; }

    public long LastTransferBytes { get; private set; }

    /// <summary>Last request: from reserve to the worker being told to resume (KV complete on its side).</summary>
    public TimeSpan LastTimeToFirstToken { get; private set; }

    /// <summary>
    /// Starts <c>dotnet pdrdmaDll decode-worker workerArgs</c> (or the executable itself when <paramref name="pdrdmaDll"/>
    /// is not a .dll, as in the self-contained GPU bundle), waits (bounded) for its hello and connects to its agent; when
    /// the prefill pool is on CUDA, opens the worker's device pool through the IPC handle in its hello instead.
    /// </summary>
    public static async Task<DecodeWorkerClient> StartAsync(string pdrdmaDll, IEnumerable<string> workerArgs, PrefillEngine prefill, BackendChoice backend,
        TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        bool viaDotnet = pdrdmaDll.EndsWith(".dll", StringComparison.Ordinal);
        var psi = new ProcessStartInfo(viaDotnet ? "dotnet" : pdrdmaDll) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (viaDotnet) psi.ArgumentList.Add(pdrdmaDll);
        psi.ArgumentList.Add("decode-worker");
        foreach (var a in workerArgs) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add("--backend");
        psi.ArgumentList.Add(backend.ToString().ToLowerInvariant());
        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start the decode worker");
        TransferAgent? agent = null;
        try
        {
            var hello = await ReadAsync(process, timeout, cancellationToken).ConfigureAwait(false);
            if (hello.Op != "hello" || hello.Layout is not { Length: 6 } l || hello.RegionId is null || hello.Port == 0)
            {
                throw new TransferException(TransferErrorCode.Protocol, $"decode worker said '{hello.Op}' ({hello.Message}) instead of hello");
            }
            var layout = new KvLayout(l[0], l[1], l[2], l[3], (KvDType)l[4], l[5]);
            prefill.Pool.Layout.EnsureCompatibleWith(layout);
            if (prefill.Pool.DeviceRegion is not null)
            {
                var peer = OpenPeerDevicePool(prefill.Pool, hello, layout);
                return new DecodeWorkerClient(process, null, null, peer, hello.RegionId, layout, prefill, timeout);
            }
            if (hello.IpcHandle is not null)
            {
                throw new TransferException(TransferErrorCode.Unsupported, $"the decode worker's pool is on {hello.Device} but the prefill pool is on {prefill.Pool.Device}: give both the same --device");
            }
            agent = new TransferAgent(new TransferAgentOptions { NodeId = $"prefill-{Environment.ProcessId}", Layout = prefill.Pool.Layout, Backend = backend });
            agent.RegisterRegion(prefill.Pool.Region);
            var connection = await agent.ConnectAsync(new IPEndPoint(IPAddress.Loopback, hello.Port), cancellationToken).ConfigureAwait(false);
            return new DecodeWorkerClient(process, agent, connection, null, hello.RegionId, layout, prefill, timeout);
        }
        catch
        {
            if (agent is not null) await agent.DisposeAsync().ConfigureAwait(false);
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }
    }

    /// <summary>One split generation: reserve on the worker, prefill here with per-layer writes, decode there.</summary>
    public async Task<GenerationResult> GenerateAsync(string requestId, GenerationRequest request, Action<int>? onToken = null, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        Send(new WorkerMessage { Op = "reserve", RequestId = requestId, PromptLength = request.PromptTokens.Count });
        var targetBlocks = (await ExpectAsync("lease", cancellationToken).ConfigureAwait(false)).Blocks!;
        var writes = new List<Task>();
        long bytes = 0;
        int layers = _prefill.Pool.Layout.Layers;
        IReadOnlyList<int> prefillBlocks = [];
        WriteBatch LayerBatch(int layer, IReadOnlyList<int> blocks, byte[]? notification)
        {
            var ops = KvHandoff.LayerCopies(_prefill.Pool.Layout, blocks, _peerLayout, targetBlocks, layer)
                .Select(c => new WriteOp(_prefill.Pool.Region.Id, c.SourceOffset, _peerRegionId, c.TargetOffset, c.Length)).ToList();
            bytes += ops.Sum(o => o.Length);
            return new WriteBatch(ops, notification);
        }
        PrefillResult? result = null;
        try
        {
            result = _prefill.Prefill(request.PromptTokens, request.Sampling, (layer, blocks) =>
            {
                prefillBlocks = blocks;
                // Same GPU: a device-to-device copy of the whole prompt's KV takes microseconds, less than a wait per
                // layer would cost in lost kernel-launch overlap, so it runs once, after the last layer (below).
                if (_peerDevicePool is not null) return;
                // The last layer's batch carries the notification, so it is posted only after the others are placed.
                if (layer < layers - 1) writes.Add(_connection!.WriteAsync(LayerBatch(layer, blocks, null), cancellationToken));
            });
            var computed = Stopwatch.GetTimestamp();
            if (_peerDevicePool is not null)
            {
                TorchRuntime.Synchronize(_prefill.Pool.Device);
                for (int layer = 0; layer < layers; layer++)
                {
                    foreach (var c in KvHandoff.LayerCopies(_prefill.Pool.Layout, result.BlockIds, _peerLayout, targetBlocks, layer))
                    {
                        _peerDevicePool.CopyFrom(_prefill.Pool.DeviceRegion!, c.SourceOffset, c.TargetOffset, c.Length);
                        bytes += c.Length;
                    }
                }
            }
            await Task.WhenAll(writes).ConfigureAwait(false);
            if (_connection is not null) await _connection.WriteAsync(LayerBatch(layers - 1, result.BlockIds, Encoding.UTF8.GetBytes(requestId)), cancellationToken).ConfigureAwait(false);
            LastExposedTransferTime = Stopwatch.GetElapsedTime(computed);
        }
        catch
        {
            try
            {
                await Task.WhenAll(writes).ConfigureAwait(false);
            }
            catch (TransferException)
            {
            }
            Send(new WorkerMessage { Op = "release", RequestId = requestId });
            await ExpectAsync("released", cancellationToken).ConfigureAwait(false);
            throw;
        }
        finally
        {
            if (result is not null) _prefill.Release(result);
        }
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
        var decodeClock = Stopwatch.StartNew();
        while (true)
        {
            var m = await ReadAsync(_process, _timeout, cancellationToken).ConfigureAwait(false);
            switch (m.Op)
            {
                case "token":
                    tokens.Add(m.Token);
                    onToken?.Invoke(m.Token);
                    break;
                case "done":
                    LastDecodeTime = decodeClock.Elapsed;
                    return new GenerationResult(request.PromptTokens, tokens, Enum.Parse<StopReason>(m.Reason!));
                default:
                    throw new TransferException(TransferErrorCode.Protocol, $"decode worker: {m.Message ?? m.Op}");
            }
        }
    }

    private async Task<WorkerMessage> ExpectAsync(string op, CancellationToken cancellationToken)
    {
        var m = await ReadAsync(_process, _timeout, cancellationToken).ConfigureAwait(false);
        if (m.Op != op)
        {
            var code = m.Message?.StartsWith("PoolFull", StringComparison.Ordinal) == true ? TransferErrorCode.PoolFull : TransferErrorCode.Protocol;
            throw new TransferException(code, $"decode worker: {m.Message ?? m.Op} (expected {op})");
        }
        return m;
    }

    private void Send(WorkerMessage message)
    {
        try
        {
            _process.StandardInput.WriteLine(JsonSerializer.Serialize(message));
            _process.StandardInput.Flush();
        }
        catch (IOException e)
        {
            throw new TransferException(TransferErrorCode.PeerLost, $"decode worker (pid {_process.Id}) is gone: {e.Message}", e);
        }
    }

    /// <summary>Opens the worker's device pool from its hello: the handle is checked for size and the mapping for bounds before any byte is written.</summary>
    private static CudaDeviceRegion OpenPeerDevicePool(KvPool prefillPool, WorkerMessage hello, KvLayout peerLayout)
    {
        if (hello.IpcHandle is null)
        {
            throw new TransferException(TransferErrorCode.Unsupported, $"the prefill pool is on {prefillPool.Device} but the decode worker's pool is on {hello.Device ?? "cpu"}: give both the same --device");
        }
        byte[] handle;
        try
        {
            handle = Convert.FromBase64String(hello.IpcHandle);
        }
        catch (FormatException e)
        {
            throw new TransferException(TransferErrorCode.Protocol, "decode worker sent an IPC handle that is not base64", e);
        }
        if (hello.IpcOffset < 0 || hello.RegionLength != peerLayout.TotalBytes)
        {
            throw new TransferException(TransferErrorCode.Protocol, $"decode worker's pool: {hello.RegionLength} bytes at offset {hello.IpcOffset}, its layout needs {peerLayout.TotalBytes}");
        }
        return CudaDeviceRegion.OpenIpc(prefillPool.CudaDevice!, $"{hello.RegionId}-ipc", handle, hello.IpcOffset, peerLayout.TotalBytes);
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

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null) await _connection.DisposeAsync().ConfigureAwait(false);
        if (_agent is not null) await _agent.DisposeAsync().ConfigureAwait(false);
        _peerDevicePool?.Dispose();
        try
        {
            try
            {
                _process.StandardInput.Close();
            }
            catch (IOException)
            {
                // The worker is already gone; its pipe cannot take the buffered bytes.
            }
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await _process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }
}
