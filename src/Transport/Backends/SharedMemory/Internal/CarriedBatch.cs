namespace PdRdma.Transport.Backends.SharedMemory.Internal;

/// <summary>A batch posted on the channel, until the target finishes it (<see cref="Ticket"/>: its place in the ring's order).</summary>
internal sealed class CarriedBatch(long ticket, long batchId)
{
    public long Ticket { get; } = ticket;
    public long BatchId { get; } = batchId;
    public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
