namespace PdRdma.Native;

/// <summary>One id sequence for every handle table, so a handle of one kind is never a valid handle of another.</summary>
internal static class HandleIds
{
    private static long _next = 0x1000;

    public static nint Next() => (nint)Interlocked.Increment(ref _next);
}
