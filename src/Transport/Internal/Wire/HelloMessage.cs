using MessagePack;

namespace PdRdma.Transport.Internal.Wire;

/// <summary>First frame both ways. Key 0 stays the version in every future version.</summary>
[MessagePackObject]
internal sealed class HelloMessage
{
    [Key(0)] public int Version { get; set; }
    [Key(1)] public string NodeId { get; set; } = "";
    [Key(2)] public string HostId { get; set; } = "";
    [Key(3)] public byte[] Nonce { get; set; } = [];
    [Key(4)] public bool AuthRequired { get; set; }

    /// <summary>Target only: its answer to the initiator's nonce.</summary>
    [Key(5)] public byte[]? Proof { get; set; }
}
