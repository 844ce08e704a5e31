namespace PdRdma.Transport.Internal;

/// <summary>
/// Initiator-side cache entry of one grant window: the target's answer (once it came) and the token that ends the
/// window here — at its expiry, when a batch under it is refused, or when the connection goes.
/// </summary>
internal sealed class OpenedGrant(Task<GrantWindow> window, CancellationTokenSource ended)
{
    public Task<GrantWindow> Window { get; } = window;

    public CancellationTokenSource Ended { get; } = ended;

    /// <summary>The window is known and still usable.</summary>
    public bool IsLive => Window.IsCompletedSuccessfully && !Ended.IsCancellationRequested && Window.Result.Expires > DateTimeOffset.UtcNow;

    /// <summary>Ends the window here (backends holding its token let go of what they keep for it). Not disposed: others may still register on the token.</summary>
    public void End() => Ended.Cancel();
}
