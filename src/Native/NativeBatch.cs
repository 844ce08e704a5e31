namespace PdRdma.Native;

/// <summary>
/// A posted batch: its write task and the token that abandons it when the handle is freed before it completed.
/// </summary>
internal sealed class NativeBatch(NativeConnection owner, Task write, CancellationTokenSource cancel) : IDisposable
{
    public NativeConnection Owner { get; } = owner;

    public Task Write { get; } = write;

    public CancellationTokenSource Cancel { get; } = cancel;

    public void Dispose() => Cancel.Dispose();
}
