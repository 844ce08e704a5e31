using MessagePack;

namespace PdRdma.Transport.Internal.Wire;

[MessagePackObject]
internal sealed class BackendBlobMessage
{
    [Key(0)] public byte[] Data { get; set; } = [];
}
