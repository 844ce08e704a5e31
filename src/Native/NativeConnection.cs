using PdRdma.Transport;

namespace PdRdma.Native;

/// <summary>A connection handle: the agent that made it and the transport connection.</summary>
internal sealed record NativeConnection(NativeAgent Owner, PeerConnection Connection);
