using System.Runtime.InteropServices;
using PdRdma.Transport;

namespace PdRdma.Native;

internal static unsafe partial class NativeApi
{
    [UnmanagedCallersOnly(EntryPoint = "pdrdma_agent_create")]
    public static int AgentCreate(byte* configJson, nint* agent)
    {
        LastError.Clear();
        try
        {
            Out(agent, "agent");
            *agent = 0;
            var options = AgentConfig.Parse(Str(configJson, "config_json"));
            var transfer = new TransferAgent(options);
            try
            {
                transfer.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
            }
            catch
            {
                transfer.DisposeAsync().AsTask().GetAwaiter().GetResult();
                throw;
            }
            *agent = Agents.Add(new NativeAgent(transfer));
            return PdrdmaStatus.Ok;
        }
        catch (Exception e)
        {
            return Report(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "pdrdma_agent_destroy")]
    public static int AgentDestroy(nint agent)
    {
        LastError.Clear();
        try
        {
            var owner = Agents.Remove(agent);
            foreach (var batch in Batches.RemoveAll(b => b.Owner.Owner == owner))
            {
                batch.Cancel.Cancel();
                batch.Dispose();
            }
            Connections.RemoveAll(c => c.Owner == owner);
            Regions.RemoveAll(r => r.Owner == owner);
            // Disposing waits for every session and connection; only then may the regions' memory go.
            owner.Agent.DisposeAsync().AsTask().GetAwaiter().GetResult();
            foreach (var region in owner.Owned.Values) region.Dispose();
            return PdrdmaStatus.Ok;
        }
        catch (Exception e)
        {
            return Report(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "pdrdma_agent_listen_address")]
    public static int AgentListenAddress(nint agent, byte* buffer, nuint capacity, nuint* length)
    {
        LastError.Clear();
        try
        {
            var endpoint = Agents.Get(agent).Agent.LocalEndpoint ?? throw new NativeArgumentException("the agent does not listen (no 'listen' in its config)");
            return WriteString(endpoint.ToString(), buffer, capacity, length);
        }
        catch (Exception e)
        {
            return Report(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "pdrdma_notification_wait")]
    public static int NotificationWait(nint agent, int timeoutMs, byte* payload, nuint capacity, nuint* payloadLength,
        ulong* batchBytes, byte* peer, nuint peerCapacity)
    {
        LastError.Clear();
        try
        {
            Out(payloadLength, "payload_len");
            var owner = Agents.Get(agent);
            if (payload == null && capacity != 0) throw new NativeArgumentException("payload is NULL but payload_cap is not 0");
            long needed = 0;
            TransferNotification note;
            try
            {
                note = owner.Take(Timeout(timeoutMs), (long)Math.Min(capacity, long.MaxValue), out needed);
            }
            finally
            {
                *payloadLength = (nuint)needed;
            }
            note.Payload.CopyTo(new Span<byte>(payload, note.Payload.Length));
            if (batchBytes != null) *batchBytes = (ulong)note.Bytes;
            if (peer != null) Truncated(note.PeerNodeId, peer, peerCapacity);
            return PdrdmaStatus.Ok;
        }
        catch (Exception e)
        {
            return Report(e);
        }
    }
}
