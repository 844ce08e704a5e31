namespace PdRdma.Transport.Internal;

/// <summary>Initiator-side state of one batch: the target's two answers.</summary>
internal sealed class PendingBatch
{
    public TaskCompletionSource Proceed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Fail(Exception ex)
    {
        Proceed.TrySetException(ex);
        Done.TrySetException(ex);
        // Observed here so an answer nobody waits for any more is not reported as unobserved.
        _ = Proceed.Task.Exception;
        _ = Done.Task.Exception;
    }
}
