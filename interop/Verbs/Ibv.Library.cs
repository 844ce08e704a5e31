namespace PdRdma.Interop.Verbs;

/// <summary>
/// P/Invoke binding to rdma-core's libibverbs. One native function family per file
/// (Ibv.Device.cs, Ibv.Memory.cs, ...). Functions that return an object return a SafeHandle that is
/// invalid on failure (read the errno with <see cref="System.Runtime.InteropServices.Marshal.GetLastPInvokeError"/>);
/// functions that return int return 0 or an errno value, as libibverbs does.
/// </summary>
public static partial class Ibv
{
    /// <summary>Debian's libibverbs1; the soname is stable across rdma-core releases.</summary>
    public const string Library = "libibverbs.so.1";
}
