using System.Runtime.InteropServices;
using PdRdma.Interop.Verbs.Handles;

namespace PdRdma.Interop.Verbs;

public static partial class Ibv
{
    [LibraryImport(Library, SetLastError = true)]
    private static partial nint ibv_alloc_pd(IbvContextHandle context);

    [LibraryImport(Library)]
    internal static partial int ibv_dealloc_pd(nint pd);

    public static IbvPdHandle AllocPd(IbvContextHandle context)
    {
        var pd = new IbvPdHandle();
        pd.Adopt(ibv_alloc_pd(context), context);
        return pd;
    }
}
