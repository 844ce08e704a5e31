using MessagePack;

namespace PdRdma.Transport.Internal.Wire;

/// <summary>Reads only key 0 of a hello, so a peer of any version can be told which versions differ.</summary>
[MessagePackObject]
internal sealed class VersionProbe
{
    [Key(0)] public int Version { get; set; }
}
