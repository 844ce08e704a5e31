using MessagePack;

namespace PdRdma.Transport.Internal.Wire;

/// <summary>
/// The target's answer to an <see cref="OpenGrantMessage"/>: either the window (extents, expiry, the backend's keys) or
/// the typed reason it is not given (<see cref="Granted"/> false: <see cref="Code"/> and <see cref="Message"/>).
/// </summary>
[MessagePackObject]
internal sealed class GrantWindowMessage : IWireMessage
{
    /// <summary>Most bytes of backend keys one window carries (verbs: one rkey and address per memory window).</summary>
    public const int MaxBlobBytes = 1 << 20;

    [Key(0)] public long RequestId { get; set; }
    [Key(1)] public string Grant { get; set; } = "";
    [Key(2)] public WireWrite[] Extents { get; set; } = [];
    /// <summary>How long the grant lives from when the target sent this, in milliseconds (relative: hosts' clocks differ).</summary>
    [Key(3)] public long ExpiresInMs { get; set; }
    [Key(4)] public byte[]? Blob { get; set; }
    [Key(5)] public bool Granted { get; set; }
    [Key(6)] public TransferErrorCode Code { get; set; }
    [Key(7)] public string? Message { get; set; }

    public TransferException ToException() =>
        new(Enum.IsDefined(Code) ? Code : TransferErrorCode.Protocol, $"grant '{Grant}': {Message ?? "(no message)"}");

    public void Validate()
    {
        if (Grant is null) throw new TransferException(TransferErrorCode.Protocol, $"grant window {RequestId} names no grant (nil)");
        if (Extents is null) throw new TransferException(TransferErrorCode.Protocol, $"grant window {RequestId} without an extent list (nil)");
        if (Extents.Length > GrantWindow.MaxExtents) throw new TransferException(TransferErrorCode.Protocol, $"grant window {RequestId} with {Extents.Length} extents, at most {GrantWindow.MaxExtents}");
        if (ExpiresInMs < 0) throw new TransferException(TransferErrorCode.Protocol, $"grant window {RequestId} expires {ExpiresInMs} ms ago");
        if (Blob is { Length: > MaxBlobBytes }) throw new TransferException(TransferErrorCode.Protocol, $"grant window {RequestId} with {Blob.Length} bytes of keys, at most {MaxBlobBytes}");
        for (var i = 0; i < Extents.Length; i++)
        {
            if (Extents[i] is not { Region: not null } e) throw new TransferException(TransferErrorCode.Protocol, $"grant window {RequestId}: extent {i} is nil or names no region");
            if (e.Offset < 0 || e.Length <= 0 || e.Offset > long.MaxValue - e.Length) throw new TransferException(TransferErrorCode.Protocol, $"grant window {RequestId}: extent {i} [{e.Offset}, +{e.Length}) is malformed");
        }
    }
}
