namespace PdRdma.Transport;

/// <summary>A typed transfer failure; <see cref="Code"/> says which kind, the message says what and why.</summary>
public sealed class TransferException : Exception
{
    public TransferException(TransferErrorCode code, string message, Exception? inner = null)
        : base($"{code}: {message}", inner)
    {
        Code = code;
        Detail = message;
    }

    public TransferErrorCode Code { get; }

    /// <summary>The message without the code prefix, as sent on the wire.</summary>
    public string Detail { get; }
}
