using MessagePack;

namespace PdRdma.Transport.Internal.Wire;

/// <summary>Asks the target for the window of <see cref="Grant"/>; answered by a <see cref="GrantWindowMessage"/> with the same <see cref="RequestId"/>.</summary>
[MessagePackObject]
internal sealed class OpenGrantMessage : IWireMessage
{
    public const int MaxGrantChars = 256;

    [Key(0)] public long RequestId { get; set; }
    [Key(1)] public string Grant { get; set; } = "";

    public void Validate()
    {
        if (Grant is null) throw new TransferException(TransferErrorCode.Protocol, $"open-grant {RequestId} names no grant (nil)");
        if (Grant.Length is 0 or > MaxGrantChars) throw new TransferException(TransferErrorCode.Protocol, $"open-grant {RequestId}: grant name of {Grant.Length} characters (1 to {MaxGrantChars})");
    }
}
