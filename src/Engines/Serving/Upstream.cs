namespace PdRdma.Engines.Serving;

/// <summary>One prefill or decode instance behind the proxy, with its load (requests in flight). Thread-safe.</summary>
public sealed class Upstream(string url)
{
    private int _inFlight;

    public string Url { get; } = url.TrimEnd('/');

    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>What the instance last published in the cluster directory (load, free blocks); null with static configuration.</summary>
    public Daemon.Discovery.InstanceRecord? Reported { get; set; }

    /// <summary>Node id of a prefill instance, learned once from /internal/info.</summary>
    public string? Node { get; set; }

    private long _unreachableAt;

    /// <summary>How long an instance that refused a connection gets no new requests (unless every instance is in that state).</summary>
    public static TimeSpan Cooldown { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>True within <see cref="Cooldown"/> of a connection to it failing: routing passes it over.</summary>
    public bool RecentlyUnreachable => Volatile.Read(ref _unreachableAt) is var at && at != 0 && Environment.TickCount64 - at < (long)Cooldown.TotalMilliseconds;

    /// <summary>Records that a connection to the instance failed (refused, reset): new requests go elsewhere for a while.</summary>
    public void MarkUnreachable() => Volatile.Write(ref _unreachableAt, Environment.TickCount64);

    public IDisposable Lease()
    {
        Interlocked.Increment(ref _inFlight);
        return new Releaser(this);
    }

    private sealed class Releaser(Upstream upstream) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) Interlocked.Decrement(ref upstream._inFlight);
        }
    }
}
