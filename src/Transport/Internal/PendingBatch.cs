namespace PdRdma.Transport.Internal;

/// <summary>Initiator-side state of one batch: the target's two answers.</summary>
internal sealed class PendingBatch
{
    public TaskCompletionSource Proceed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    /// <summary>
    /// Completed by the connection's receive thread with the writer's continuation run right there (no hop through the
    /// thread pool on the latency path): WriteAsync returns and its caller continues on that thread until it next awaits
    /// (PeerConnection.WriteAsync documents this). Proceed keeps asynchronous continuations: what follows it moves data.
    /// </summary>
    public TaskCompletionSource Done { get; } = new();

    public void Fail(Exception ex)
    {
        Proceed.TrySetException(ex);
        Done.TrySetException(ex);
        // Observed here so an answer nobody waits for any more is not reported as unobserved.
        _ = Proceed.Task.Exception;
        _ = Done.Task.Exception;
    }
}
