namespace PdRdma.Transport.Backends.Verbs.Internal;

/// <summary>
/// A run of work requests posted together whose last one is signalled: its completion frees
/// <see cref="Requests"/> send-queue slots (RC completes in order), and the batch's last chunk completes the batch.
/// </summary>
internal readonly record struct SignalledChunk(ulong Batch, int Requests, int NotifySlot, bool Last);
