using System.Collections.Concurrent;
using PdRdma.Transport.Internal;

namespace PdRdma.Transport.Backends.SharedMemory;

/// <summary>Initiator: the peer's region files, mapped on first use and kept for the connection's life.</summary>
internal sealed class SharedMemoryLink(IReadOnlyDictionary<string, RegionDescriptor> remote) : IBackendLink
{
    private readonly ConcurrentDictionary<string, Lazy<HostRegion>> _mapped = new(StringComparer.Ordinal);
    private int _disposed;

    public ValueTask WriteAsync(PlannedBatch batch, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        foreach (var write in batch.Writes)
        {
            ct.ThrowIfCancellationRequested();
            var target = Map(write.Target.RegionId);
            RegionMemory.Copy(write.Source, write.SourceOffset, target, write.TargetOffset, write.Length);
        }
        return ValueTask.CompletedTask;
    }

    // The initiator's copy finished before it sent the commit; the commit's socket round trip orders it for this process.
    public ValueTask WaitPlacedAsync(long batchId, CancellationToken ct) => ValueTask.CompletedTask;

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            foreach (var region in _mapped.Values.Where(l => l.IsValueCreated)) region.Value.Dispose();
        }
        return ValueTask.CompletedTask;
    }

    private HostRegion Map(string regionId)
    {
        if (_mapped.TryGetValue(regionId, out var mapped)) return mapped.Value;
        if (!remote.TryGetValue(regionId, out var descriptor) || descriptor.SharedPath is not { } path)
        {
            throw new TransferException(TransferErrorCode.UnknownRegion, $"shm: peer region '{regionId}' has no shared file to map");
        }
        // Checked once, when the file is first opened; the mapping is kept for the connection's life.
        if (SharedPathPolicy.Refusal(path, HostRegion.DefaultDirectory) is { } why)
        {
            throw new TransferException(TransferErrorCode.AccessDenied, $"shm: peer region '{regionId}' names the file '{path}', which {why}: not opened");
        }
        return _mapped.GetOrAdd(regionId, _ => new Lazy<HostRegion>(() => HostRegion.Open(regionId, path, descriptor.Length))).Value;
    }
}
