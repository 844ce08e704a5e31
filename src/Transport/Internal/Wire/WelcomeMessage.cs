using MessagePack;

namespace PdRdma.Transport.Internal.Wire;

/// <summary>Target → initiator once the peer is authenticated and its layout matches.</summary>
[MessagePackObject]
internal sealed class WelcomeMessage
{
    [Key(0)] public KvLayout? Layout { get; set; }
    [Key(1)] public string[] Backends { get; set; } = [];
    [Key(2)] public RegionDescriptor[] Regions { get; set; } = [];
}
