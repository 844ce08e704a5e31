namespace PdRdma.Transport;

/// <summary>
/// Writes posted together. The target validates the whole batch before placing a byte, and delivers
/// <paramref name="Notification"/> (when set) only after every byte is in place and the checksum (when asked) matched.
/// The source bytes are borrowed until <see cref="PeerConnection.WriteAsync"/> completes.
/// </summary>
public sealed record WriteBatch(IReadOnlyList<WriteOp> Ops, byte[]? Notification = null, ChecksumKind Checksum = ChecksumKind.None);
