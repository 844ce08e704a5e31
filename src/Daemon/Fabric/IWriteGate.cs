using PdRdma.Transport;

namespace PdRdma.Daemon.Fabric;

/// <summary>Target side: decides whether a peer may write [offset, offset+length) of a region (the contract's IWriteAuthorizer). Thread-safe.</summary>
public interface IWriteGate
{
    bool CanWrite(string peerNodeId, string regionId, long offset, long length);

    /// <summary>The same under the grant the batch named (the request id of a lease); null: none named.</summary>
    bool CanWrite(string peerNodeId, string? grant, string regionId, long offset, long length) => CanWrite(peerNodeId, regionId, offset, length);

    /// <summary>The window a live grant gives the peer (the contract's <see cref="IWriteAuthorizer.DescribeGrant"/>); null: none.</summary>
    GrantWindow? DescribeGrant(string peerNodeId, string grant) => null;
}
