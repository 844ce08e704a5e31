using System.Text.Json;
using PdRdma.Engines.Sampling;
using PdRdma.Transport;

namespace PdRdma.Engines.Split;

/// <summary>
/// The decode side of a two-process split on one host, driven over a pipe: announces its pool region, reserves
/// leases, and resumes decoding once the parent has written the prompt's KV straight into that region.
/// Requests are handled one at a time; returns when the input ends.
/// </summary>
public static class DecodeWorkerHost
{
    public static void Run(DecodeEngine decode, TextReader input, TextWriter output)
    {
        var layout = decode.Pool.Layout;
        Send(output, new WorkerMessage
        {
            Op = "hello",
            RegionPath = decode.Pool.Region.SharedPath,
            RegionLength = decode.Pool.Region.Length,
            Layout = [layout.Layers, layout.KvHeads, layout.HeadDim, layout.TokensPerBlock, (int)layout.DType, layout.Blocks],
        });
        var leases = new Dictionary<string, KvLease>(StringComparer.Ordinal);
        while (input.ReadLine() is { } line)
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

    private static void Send(TextWriter output, WorkerMessage message)
    {
        output.WriteLine(JsonSerializer.Serialize(message));
        output.Flush();
    }
}
