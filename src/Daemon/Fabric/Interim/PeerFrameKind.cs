namespace PdRdma.Daemon.Fabric.Interim;

public enum PeerFrameKind
{
    Hello = 1,
    HelloReply = 2,
    Proof = 3,
    Welcome = 4,
    Write = 5,
    Ack = 6,
    Error = 7,
}
