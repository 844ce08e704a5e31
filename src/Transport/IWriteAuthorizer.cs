namespace PdRdma.Transport;

/// <summary>
/// Target-side policy consulted for every write of every batch before any byte is placed, and again for every tcp data
/// chunk as it lands (a grant that ended meanwhile refuses the rest of the batch). Called from the connection's receive
/// loop: must be thread-safe and fast, and must not block.
/// </summary>
public interface IWriteAuthorizer
{
    /// <summary>Whether <paramref name="peerNodeId"/> may write [offset, offset+length) of the region now, under no named grant.</summary>
    bool CanWrite(string peerNodeId, string regionId, long offset, long length);

    /// <summary>
    /// Whether <paramref name="peerNodeId"/> may write [offset, offset+length) of the region now under the grant the batch
    /// named (null: none). By default the grant is ignored; a policy with grants (leases) checks that exact one, so a
    /// request cannot write into blocks granted to another.
    /// </summary>
    bool CanWrite(string peerNodeId, string? grant, string regionId, long offset, long length) => CanWrite(peerNodeId, regionId, offset, length);

    /// <summary>
    /// The window <paramref name="grant"/> gives <paramref name="peerNodeId"/> now, for backends that let the peer write
    /// without a round trip per batch (verbs memory windows, the shm grant table); null when the peer holds no such live
    /// grant. Called when the peer opens the grant, once per grant and connection. By default no grant has a window, so
    /// every batch is checked before its data moves.
    /// </summary>
    GrantWindow? DescribeGrant(string peerNodeId, string grant) => null;
}
