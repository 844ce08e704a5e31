using MessagePack;

namespace PdRdma.Transport.Internal.Wire;

[MessagePackObject]
internal sealed class SelectBackendMessage
{
    [Key(0)] public string Backend { get; set; } = "";
    [Key(1)] public string Reason { get; set; } = "";
}
