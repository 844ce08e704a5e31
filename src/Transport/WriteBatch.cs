namespace PdRdma.Transport;

/// <summary>
/// Writes posted together. The target validates the whole batch against its grants before placing a byte (and again
/// as each byte lands), and delivers <paramref name="Notification"/> (when set) only after every byte is in place and
/// the checksum (when asked) matched. <paramref name="Grant"/> names the target's grant the writes fall under (the
/// target's <see cref="IWriteAuthorizer"/> decides what it means; the node daemon uses the request id of the lease).
/// The source bytes are borrowed until <see cref="PeerConnection.WriteAsync"/> completes.
/// </summary>
public sealed record WriteBatch(IReadOnlyList<WriteOp> Ops, byte[]? Notification = null, ChecksumKind Checksum = ChecksumKind.None, string? Grant = null);
