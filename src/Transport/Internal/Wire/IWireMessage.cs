namespace PdRdma.Transport.Internal.Wire;

/// <summary>A message that checks its own decoded fields (no nil where a value is required) before anyone reads them.</summary>
internal interface IWireMessage
{
    /// <summary>Throws <see cref="TransferException"/> Protocol naming the first missing or malformed field.</summary>
    void Validate();
}
