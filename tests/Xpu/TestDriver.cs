using System.Diagnostics;
using System.Runtime.InteropServices;

namespace PdRdma.Tests.Xpu;

/// <summary>
/// Builds TestDriver/ze_test_driver.c with gcc once per test run (into a temp folder) and exposes its two test
/// hooks: how many allocations are live, and which features are switched off.
/// </summary>
internal static class TestDriver
{
    public const int DisableIpc = 1;
    public const int DisableExternal = 2;

    private static readonly Lazy<string> Built = new(Build);

    /// <summary>Path of libze_test_driver.so, built on first use.</summary>
    public static string Path => Built.Value;

    public static int LiveAllocations()
    {
        var fn = Marshal.GetDelegateForFunctionPointer<CountFn>(NativeLibrary.GetExport(NativeLibrary.Load(Path), "ze_test_driver_live_allocations"));
        return fn();
    }

    public static void SetDisabled(int flags)
    {
        var fn = Marshal.GetDelegateForFunctionPointer<SetFn>(NativeLibrary.GetExport(NativeLibrary.Load(Path), "ze_test_driver_set_disabled"));
        fn((uint)flags);
    }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int CountFn();

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void SetFn(uint flags);

    private static string Build()
    {
        var source = System.IO.Path.Combine(SourceDirectory(), "TestDriver", "ze_test_driver.c");
        var dir = Directory.CreateTempSubdirectory("pdrdma-ze-driver-").FullName;
        var output = System.IO.Path.Combine(dir, "libze_test_driver.so");
        var info = new ProcessStartInfo(Interop.CCompilerFactAttribute.FindGcc()!)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        foreach (var arg in new[] { "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter", "-shared", "-fPIC", "-fvisibility=hidden", "-o", output, source })
        {
            info.ArgumentList.Add(arg);
        }
        using var gcc = Process.Start(info)!;
        var errors = gcc.StandardError.ReadToEnd();
        gcc.WaitForExit();
        if (gcc.ExitCode != 0) throw new InvalidOperationException($"gcc failed on {source}:\n{errors}");
        return output;
    }

    /// <summary>tests/Xpu in the source tree (the C file is not copied next to the test assembly).</summary>
    private static string SourceDirectory([System.Runtime.CompilerServices.CallerFilePath] string file = "") =>
        System.IO.Path.GetDirectoryName(file)!;
}
