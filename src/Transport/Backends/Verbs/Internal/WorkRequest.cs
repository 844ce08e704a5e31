using PdRdma.Interop.Verbs.Native;

namespace PdRdma.Transport.Backends.Verbs.Internal;

/// <summary>One send-queue entry to post: a single-SGE RDMA WRITE or SEND.</summary>
internal readonly record struct WorkRequest(ibv_wr_opcode Opcode, ulong LocalAddress, uint Length, uint LocalKey, ulong RemoteAddress, uint RemoteKey);
