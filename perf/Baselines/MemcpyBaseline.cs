using System.Diagnostics;
using PdRdma.Transport;

namespace PdRdma.Perf.Baselines;

/// <summary>
/// A plain single-threaded memcpy between two shared-memory mappings (the work the shm backend's initiator does),
/// of the same sizes, after a warm-up pass so that page faults are not counted.
/// </summary>
public sealed class MemcpyBaseline : IDisposable
{
    private readonly HostRegion _source;
    private readonly HostRegion _target;

    public MemcpyBaseline(long regionBytes)
    {
        _source = HostRegion.Create("pdb-memcpy-src", regionBytes);
        _target = HostRegion.Create("pdb-memcpy-dst", regionBytes);
        Fill(_source);
        Copy(0, regionBytes);
    }

    /// <summary>Gbit/s copying <paramref name="bytes"/> repeatedly: the best of three windows of a third of <paramref name="budget"/>.</summary>
    public double MeasureGbps(long bytes, TimeSpan budget)
    {
        Copy(0, bytes);
        // consecutive offsets when the size allows, so that small sizes are not all served from one cache line
        var slots = Math.Max(1, Math.Min(64, _source.Length / bytes));
        // several copies between clock reads, so that reading the clock does not dominate tiny sizes
        var perCheck = Math.Max(1, (1 << 16) / bytes);
        var best = 0.0;
        var iterations = 0L;
        for (var window = 0; window < 3; window++)
        {
            var copies = 0L;
            var clock = Stopwatch.StartNew();
            do
            {
                for (var i = 0; i < perCheck; i++)
                {
                    Copy(iterations++ % slots * bytes, bytes);
                    copies++;
                }
            }
            while (clock.Elapsed < budget / 3 || copies < 2);
            best = Math.Max(best, copies * bytes * 8 / clock.Elapsed.TotalSeconds / 1e9);
        }
        return best;
    }

    // memcpy through spans (at most 1 GiB each): the same copy the runtime makes, without raw pointers here
    private void Copy(long offset, long bytes)
    {
        for (long done = 0; done < bytes; done += 1 << 30)
        {
            var n = (int)Math.Min(1 << 30, bytes - done);
            _source.AsSpan(offset + done, n).CopyTo(_target.AsSpan(offset + done, n));
        }
    }

    private static void Fill(HostRegion region)
    {
        var random = new Random(7);
        for (long offset = 0; offset < region.Length; offset += 1 << 20)
        {
            random.NextBytes(region.AsSpan(offset, (int)Math.Min(1 << 20, region.Length - offset)));
        }
    }

    public void Dispose()
    {
        _source.Dispose();
        _target.Dispose();
    }
}
