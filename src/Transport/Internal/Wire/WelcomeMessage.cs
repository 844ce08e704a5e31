using MessagePack;

namespace PdRdma.Transport.Internal.Wire;

/// <summary>Target → initiator once the peer proved it holds the secret and its layout matches: the target's own proof and identity.</summary>
[MessagePackObject]
internal sealed class WelcomeMessage : IWireMessage
{
    [Key(0)] public KvLayout? Layout { get; set; }
    [Key(1)] public string[] Backends { get; set; } = [];
    [Key(2)] public RegionDescriptor[] Regions { get; set; } = [];

    /// <summary>The target's answer, over the transcript up to and including the initiator's setup.</summary>
    [Key(3)] public byte[]? Proof { get; set; }
    [Key(4)] public string NodeId { get; set; } = "";
    [Key(5)] public string HostId { get; set; } = "";

    /// <summary>Whether the target wants tcp data payloads authenticated.</summary>
    [Key(6)] public bool DataMac { get; set; } = true;

    public void Validate()
    {
        if (Backends is null || Regions is null || NodeId is null || HostId is null) throw new TransferException(TransferErrorCode.Protocol, "welcome with a nil field");
    }
}
