using Microsoft.Extensions.Logging;
using PdRdma.Transport.Backends;

namespace PdRdma.Transport.Internal;

/// <summary>Chooses the backend for one peer from capabilities only, and says why in words.</summary>
internal static class BackendSelector
{
    public static (ITransferBackend Backend, string Reason) Choose(
        TransferAgentOptions options, IReadOnlyList<ITransferBackend> local, IReadOnlyCollection<string> peerOffers,
        string peerNodeId, string peerHostId, IEnumerable<MemoryKind> kindsInUse, ILogger logger)
    {
        var kinds = kindsInUse.Distinct().ToArray();
        if (options.Backend != BackendChoice.Auto)
        {
            var name = options.Backend.ToString().ToLowerInvariant();
            var forced = local.FirstOrDefault(b => b.Name == name);
            string why;
            if (forced is null) why = $"this agent has no '{name}' backend";
            else if (!Eligible(forced, options, peerOffers, peerHostId, kinds, out why)) { }
            else return (forced, $"forced by options (Backend={options.Backend})");

            if (!options.AllowFallback)
            {
                throw new TransferException(TransferErrorCode.Unsupported, $"backend '{name}' requested for peer {peerNodeId} but {why}; set AllowFallback to use another");
            }
            var (fallback, reason) = Auto(options, local, peerOffers, peerHostId, kinds, peerNodeId);
            TransportLog.FellBack(logger, name, peerNodeId, why, fallback.Name);
            return (fallback, $"'{name}' unusable ({why}); fell back: {reason}");
        }
        return Auto(options, local, peerOffers, peerHostId, kinds, peerNodeId);
    }

    private static (ITransferBackend, string) Auto(TransferAgentOptions options, IReadOnlyList<ITransferBackend> local, IReadOnlyCollection<string> peerOffers,
        string peerHostId, MemoryKind[] kinds, string peerNodeId)
    {
        var skipped = new List<string>();
        foreach (var backend in local)
        {
            if (Eligible(backend, options, peerOffers, peerHostId, kinds, out var why))
            {
                var reason = backend.Capabilities.SameHostOnly
                    ? $"same host id on both sides ({Short(options.HostId)})"
                    : options.HostId == peerHostId ? "first usable backend in preference order" : $"host ids differ (local {Short(options.HostId)}, peer {Short(peerHostId)})";
                if (skipped.Count > 0) reason += $"; skipped {string.Join(", ", skipped)}";
                return (backend, reason);
            }
            skipped.Add($"{backend.Name}: {why}");
        }
        throw new TransferException(TransferErrorCode.Unsupported, $"no backend usable with peer {peerNodeId}: {string.Join("; ", skipped)}");
    }

    private static bool Eligible(ITransferBackend backend, TransferAgentOptions options, IReadOnlyCollection<string> peerOffers, string peerHostId, MemoryKind[] kinds, out string why)
    {
        var caps = backend.Capabilities;
        // Local availability first: "no RDMA device here, load rdma_rxe" says more than "the peer does not offer it".
        if (!backend.IsAvailable(out var unavailable)) why = unavailable;
        else if (!peerOffers.Contains(backend.Name)) why = "the peer does not offer it (e.g. it has no usable device for it)";
        else if (caps.SameHostOnly && options.HostId != peerHostId) why = "the peer is on another host";
        else if (kinds.Where(k => !caps.MemoryKinds.Contains(k)).ToArray() is { Length: > 0 } missing) why = $"it cannot access {string.Join(", ", missing)} memory";
        else { why = ""; return true; }
        return false;
    }

    private static string Short(string hostId) => hostId.Length <= 12 ? hostId : hostId[..12] + "…";
}
