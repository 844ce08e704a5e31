using MessagePack;

namespace PdRdma.Transport.Internal.Wire;

/// <summary>Initiator → target after the hellos: its proof, layout, backends and regions.</summary>
[MessagePackObject]
internal sealed class SetupMessage
{
    [Key(0)] public byte[]? Proof { get; set; }
    [Key(1)] public KvLayout? Layout { get; set; }
    [Key(2)] public string[] Backends { get; set; } = [];
    [Key(3)] public RegionDescriptor[] Regions { get; set; } = [];
}
