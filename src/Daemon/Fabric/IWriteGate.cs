namespace PdRdma.Daemon.Fabric;

/// <summary>Target side: decides whether a peer may write [offset, offset+length) of a region (the contract's IWriteAuthorizer). Thread-safe.</summary>
public interface IWriteGate
{
    bool CanWrite(string peerNodeId, string regionId, long offset, long length);
}
