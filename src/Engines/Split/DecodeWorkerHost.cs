using System.Text;
using System.Text.Json;
using PdRdma.Engines.Sampling;
using PdRdma.Transport;

namespace PdRdma.Engines.Split;

/// <summary>
/// The decode side of a two-process split, driven over a pipe: its pool region is registered with a listening
/// <see cref="TransferAgent"/>; it reserves leases, and resumes a request once the transfer notification carrying
/// the request id says every byte of its prompt KV is in place. Requests are handled one at a time; returns when
/// the input ends.
/// </summary>
public static class DecodeWorkerHost
{
    public static async Task RunAsync(DecodeEngine decode, TransferAgent agent, TextReader input, TextWriter output, TimeSpan arrivalTimeout, CancellationToken ct)
    {
        var layout = decode.Pool.Layout;
        string? ipc = null;
        long ipcOffset = 0;
        if (decode.Pool.DeviceRegion is { } deviceRegion)
        {
            // One host, one GPU: the parent opens the pool through CUDA IPC and copies each layer's KV into it directly.
            ipc = Convert.ToBase64String(deviceRegion.ExportIpcHandle(out ipcOffset));
        }
        Send(output, new WorkerMessage
        {
            Op = "hello",
            RegionId = decode.Pool.MemoryRegion.Id,
            RegionLength = decode.Pool.MemoryRegion.Length,
            IpcHandle = ipc,
            IpcOffset = ipcOffset,
            Device = decode.Pool.Device.ToString(),
            Port = agent.LocalEndpoint?.Port ?? 0,
            Layout = [layout.Layers, layout.KvHeads, layout.HeadDim, layout.TokensPerBlock, (int)layout.DType, layout.Blocks],
        });
        var leases = new Dictionary<string, KvLease>(StringComparer.Ordinal);
        var arrived = new HashSet<string>(StringComparer.Ordinal);
        while (await input.ReadLineAsync(ct).ConfigureAwait(false) is { } line)
        {
            WorkerMessage? message = null;
            try
            {
                message = JsonSerializer.Deserialize<WorkerMessage>(line) ?? throw new InvalidDataException("empty message");
                if (message.Version != WorkerMessage.CurrentVersion)
                {
                    throw new TransferException(TransferErrorCode.VersionMismatch, $"decode worker speaks version {WorkerMessage.CurrentVersion}, parent sent {message.Version}");
                }
                switch (message.Op)
                {
                    case "reserve":
                        var lease = decode.Reserve(message.RequestId!, message.PromptLength);
                        leases[lease.RequestId] = lease;
                        Send(output, new WorkerMessage { Op = "lease", RequestId = lease.RequestId, Blocks = [.. lease.BlockIds] });
                        break;
                    case "resume":
                        if (!leases.Remove(message.RequestId!, out var held)) throw new TransferException(TransferErrorCode.Timeout, $"no lease for request '{message.RequestId}'");
                        try
                        {
                            // A device pool is written by the parent through IPC, synchronised before it sends resume.
                            if (ipc is null) await WaitForArrivalAsync(agent, held.RequestId, arrived, arrivalTimeout, ct).ConfigureAwait(false);
                        }
                        catch
                        {
                            decode.Release(held);
                            throw;
                        }
                        var sampling = new SamplingOptions(message.Temperature, message.TopP, message.Seed);
                        var prefill = new PrefillResult(message.Prompt!, message.FirstToken, message.RngState, []);
                        var result = decode.Resume(held, prefill, message.MaxNewTokens, sampling,
                            t => Send(output, new WorkerMessage { Op = "token", RequestId = held.RequestId, Token = t }));
                        Send(output, new WorkerMessage { Op = "done", RequestId = held.RequestId, Reason = result.Reason.ToString() });
                        break;
                    case "release":
                        if (leases.Remove(message.RequestId!, out var abandoned)) decode.Release(abandoned);
                        Send(output, new WorkerMessage { Op = "released", RequestId = message.RequestId });
                        break;
                    default:
                        throw new InvalidDataException($"unknown op '{message.Op}'");
                }
            }
            catch (Exception e) when (e is TransferException or InvalidDataException or JsonException or ArgumentException or InvalidOperationException)
            {
                Send(output, new WorkerMessage { Op = "error", RequestId = message?.RequestId, Message = e.Message });
            }
        }
    }

    private static async Task WaitForArrivalAsync(TransferAgent agent, string requestId, HashSet<string> arrived, TimeSpan timeout, CancellationToken ct)
    {
        if (arrived.Remove(requestId)) return;
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        try
        {
            while (true)
            {
                var note = await agent.Notifications.ReadAsync(limit.Token).ConfigureAwait(false);
                var id = Encoding.UTF8.GetString(note.Payload);
                if (id == requestId) return;
                arrived.Add(id);
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new TransferException(TransferErrorCode.Timeout, $"the KV of request '{requestId}' did not arrive within {timeout.TotalSeconds:F0} s");
        }
    }

    private static void Send(TextWriter output, WorkerMessage message)
    {
        lock (output)
        {
            output.WriteLine(JsonSerializer.Serialize(message));
            output.Flush();
        }
    }
}
