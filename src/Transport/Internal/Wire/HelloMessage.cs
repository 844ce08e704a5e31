using MessagePack;

namespace PdRdma.Transport.Internal.Wire;

/// <summary>
/// First frame both ways. Key 0 stays the version in every future version. The target's hello carries only the
/// version, its nonce and whether it requires the secret: who it is comes in the welcome, after the initiator proved.
/// </summary>
[MessagePackObject]
internal sealed class HelloMessage : IWireMessage
{
    [Key(0)] public int Version { get; set; }
    [Key(1)] public string NodeId { get; set; } = "";
    [Key(2)] public string HostId { get; set; } = "";
    [Key(3)] public byte[] Nonce { get; set; } = [];
    [Key(4)] public bool AuthRequired { get; set; }

    /// <summary>Version 1 only (the target's proof); never sent by version 2, whose proofs come after the hellos.</summary>
    [Key(5)] public byte[]? Proof { get; set; }

    /// <summary>Whether this side wants tcp data payloads authenticated too (both must, for it to be on).</summary>
    [Key(6)] public bool DataMac { get; set; } = true;

    /// <summary>
    /// Initiator: it reads <see cref="MessageType.Dones"/> (several batches acknowledged in one frame). Absent (false) from
    /// older initiators, which then get one Done per batch; the target's own hello leaves it false.
    /// </summary>
    [Key(7)] public bool BatchedDone { get; set; }

    public void Validate()
    {
        if (NodeId is null) throw new TransferException(TransferErrorCode.Protocol, "hello without a node id (nil)");
        if (HostId is null) throw new TransferException(TransferErrorCode.Protocol, "hello without a host id (nil)");
        if (Nonce is null) throw new TransferException(TransferErrorCode.Protocol, "hello without a nonce (nil)");
        if (NodeId.Length > 256 || HostId.Length > 256) throw new TransferException(TransferErrorCode.Protocol, "hello with a node or host id over 256 characters");
    }
}
