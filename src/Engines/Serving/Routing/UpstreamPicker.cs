namespace PdRdma.Engines.Serving.Routing;

/// <summary>
/// Routing of new requests. Prefill: the shortest queue. Decode: the smallest running batch, then the most free
/// KV blocks. An instance that refused a connection within <see cref="Upstream.Cooldown"/> is passed over. A load is the larger of what this proxy has in flight there (fresh, but only its own requests)
/// and what the instance last published in the directory (every proxy's requests, up to 250 ms old). Ties go to
/// a random instance so load spreads.
/// </summary>
public static class UpstreamPicker
{
    public static Upstream PickPrefill(IReadOnlyList<Upstream> all) =>
        Pick(all, "prefill", u => (Math.Max(u.InFlight, u.Reported?.QueueDepth ?? 0), 0));

    public static Upstream PickDecode(IReadOnlyList<Upstream> all) =>
        Pick(all, "decode", u => (Math.Max(u.InFlight, u.Reported?.Running ?? 0), -(u.Reported?.FreeBlocks ?? 0)));

    private static Upstream Pick(IReadOnlyList<Upstream> all, string role, Func<Upstream, (int, int)> score)
    {
        if (all.Count == 0) throw new ServingException(503, "no_instance", $"no {role} instance is registered (none started, or all dead): retry later");
        // Instances that just refused a connection are passed over, unless that leaves none to try.
        var reachable = all.Where(u => !u.RecentlyUnreachable).ToList();
        if (reachable.Count > 0) all = reachable;
        // One snapshot of the loads: they change under our feet.
        var scored = all.Select(u => (Upstream: u, Score: score(u))).ToList();
        var best = scored.Min(s => s.Score);
        var candidates = scored.Where(s => s.Score == best).ToList();
        return candidates[Random.Shared.Next(candidates.Count)].Upstream;
    }
}
