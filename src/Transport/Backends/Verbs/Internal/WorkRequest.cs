using PdRdma.Interop.Verbs.Native;

namespace PdRdma.Transport.Backends.Verbs.Internal;

/// <summary>
/// One send-queue entry to post: a single-SGE RDMA WRITE (WITH_IMM) or SEND (WITH_IMM), no SGE when
/// <see cref="Length"/> is 0; or a memory-window bind (<see cref="Window"/> bound to <see cref="BoundRegion"/> over
/// [<see cref="LocalAddress"/>, +<see cref="BindLength"/>) with the new key <see cref="RemoteKey"/>).
/// <see cref="Immediate"/> is in host byte order.
/// </summary>
internal readonly record struct WorkRequest(ibv_wr_opcode Opcode, ulong LocalAddress, uint Length, uint LocalKey, ulong RemoteAddress, uint RemoteKey,
    uint Immediate = 0, nint Window = 0, nint BoundRegion = 0, ulong BindLength = 0, ibv_access_flags BindAccess = 0);
