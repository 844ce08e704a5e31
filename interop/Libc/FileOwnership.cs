using System.Runtime.InteropServices;

namespace PdRdma.Interop.Libc;

/// <summary>chown(2): .NET has no managed call that sets a file's group.</summary>
public static partial class FileOwnership
{
    [LibraryImport("libc", EntryPoint = "chown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Chown(string path, int owner, int group);

    /// <summary>Sets the group of a file, keeping its owner; throws IOException with errno on failure.</summary>
    public static void SetGroup(string path, int groupId)
    {
        if (Chown(path, -1, groupId) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"chown(:{groupId}) of {path} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
        }
    }
}
