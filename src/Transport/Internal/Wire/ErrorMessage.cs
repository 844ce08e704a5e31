using MessagePack;

namespace PdRdma.Transport.Internal.Wire;

/// <summary>A typed failure; <see cref="BatchId"/> -1 means the whole connection (it is closed after).</summary>
[MessagePackObject]
internal sealed class ErrorMessage
{
    public const long Connection = -1;

    [Key(0)] public long BatchId { get; set; } = Connection;
    [Key(1)] public TransferErrorCode Code { get; set; }
    [Key(2)] public string Message { get; set; } = "";

    public TransferException ToException() =>
        new(Enum.IsDefined(Code) ? Code : TransferErrorCode.Protocol, Message ?? "(no message)");
}
