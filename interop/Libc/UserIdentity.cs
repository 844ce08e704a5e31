using System.Runtime.InteropServices;

namespace PdRdma.Interop.Libc;

/// <summary>geteuid(2): .NET has no managed call for the process's effective user id.</summary>
public static partial class UserIdentity
{
    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEuid();

    /// <summary>The effective uid of this process.</summary>
    public static int EffectiveUid => (int)GetEuid();
}
