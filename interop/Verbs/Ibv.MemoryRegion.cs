using System.Runtime.InteropServices;
using PdRdma.Interop.Verbs.Handles;
using PdRdma.Interop.Verbs.Native;

namespace PdRdma.Interop.Verbs;

public static partial class Ibv
{
    [LibraryImport(Library, SetLastError = true)]
    private static partial nint ibv_reg_mr(IbvPdHandle pd, nint addr, nuint length, int access);

    [LibraryImport(Library, SetLastError = true)]
    private static partial nint ibv_reg_dmabuf_mr(IbvPdHandle pd, ulong offset, nuint length, ulong iova, int fd, int access);

    [LibraryImport(Library)]
    internal static partial int ibv_dereg_mr(nint mr);

    /// <summary>Pins and registers [addr, addr+length); the caller keeps the memory mapped while the handle lives.</summary>
    public static IbvMrHandle RegMr(IbvPdHandle pd, nint addr, nuint length, ibv_access_flags access)
    {
        var mr = new IbvMrHandle();
        mr.Adopt(ibv_reg_mr(pd, addr, length, (int)access), pd);
        return mr;
    }

    /// <summary>Registers device memory exported as a dma-buf (GPU memory); iova is the address peers use.</summary>
    public static IbvMrHandle RegDmabufMr(IbvPdHandle pd, ulong offset, nuint length, ulong iova, int fd, ibv_access_flags access)
    {
        var mr = new IbvMrHandle();
        mr.Adopt(ibv_reg_dmabuf_mr(pd, offset, length, iova, fd, (int)access), pd);
        return mr;
    }
}
