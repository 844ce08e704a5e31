using MessagePack;

namespace PdRdma.Transport.Internal.Wire;

/// <summary>Initiator → target after the hellos: its proof (first), layout, backends and regions.</summary>
[MessagePackObject]
internal sealed class SetupMessage : IWireMessage
{
    [Key(0)] public byte[]? Proof { get; set; }
    [Key(1)] public KvLayout? Layout { get; set; }
    [Key(2)] public string[] Backends { get; set; } = [];
    [Key(3)] public RegionDescriptor[] Regions { get; set; } = [];

    public void Validate()
    {
        if (Backends is null || Regions is null) throw new TransferException(TransferErrorCode.Protocol, "setup with a nil backend or region list");
    }
}
