using System.Runtime.InteropServices;

namespace PdRdma.Interop.Libc;

/// <summary>
/// setenv(3): the process environment native libraries read with getenv. .NET's Environment.SetEnvironmentVariable
/// changes only the managed copy on Unix, so a variable a native loader reads (ZE_ENABLE_ALT_DRIVERS) is set here.
/// Not thread-safe with concurrent getenv: call before the library that reads it is first used.
/// </summary>
public static partial class NativeEnvironment
{
    [LibraryImport("libc", EntryPoint = "setenv", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);

    public static void Set(string name, string value)
    {
        if (SetEnv(name, value, 1) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"setenv({name}) failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
        }
    }
}
