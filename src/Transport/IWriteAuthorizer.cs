namespace PdRdma.Transport;

/// <summary>
/// Target-side policy consulted for every write of every batch before any byte is placed (e.g. leases on granted
/// blocks). Called from the connection's receive loop: must be thread-safe and fast, and must not block.
/// </summary>
public interface IWriteAuthorizer
{
    bool CanWrite(string peerNodeId, string regionId, long offset, long length);
}
