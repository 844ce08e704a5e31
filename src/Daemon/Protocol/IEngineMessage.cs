using MessagePack;

namespace PdRdma.Daemon.Protocol;

/// <summary>A message of the engine API (Unix socket between an engine and its node daemon). Union keys are never reused.</summary>
[Union(0, typeof(RegisterPoolRequest))]
[Union(1, typeof(PoolRegistered))]
[Union(2, typeof(ReserveRequest))]
[Union(3, typeof(Reserved))]
[Union(4, typeof(ReleaseRequest))]
[Union(5, typeof(WriteRequest))]
[Union(6, typeof(Written))]
[Union(7, typeof(SubscribeRequest))]
[Union(8, typeof(Arrived))]
[Union(9, typeof(LeaseEnded))]
[Union(10, typeof(StatusRequest))]
[Union(11, typeof(StatusReply))]
[Union(12, typeof(ErrorReply))]
[Union(13, typeof(OkReply))]
public interface IEngineMessage
{
}
