using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using PdRdma.Interop.DmaBuf;
using PdRdma.Interop.DmaBuf.Native;
using PdRdma.Interop.Verbs.Native;

namespace PdRdma.Tests.Interop;

/// <summary>
/// The dma-buf source binding (udmabuf, DRM dumb buffers + PRIME) against the installed headers (linux-libc-dev,
/// libdrm-dev): every struct's size, each field's offset and size, and the four ioctl numbers, by compiling a C
/// program generated from the binding.
/// </summary>
[Trait("Category", "Verbs")]
public sealed class DmaBufStructLayoutTests
{
    private static readonly Type[] BindingStructs = typeof(DmaBufSources).Assembly.GetTypes()
        .Where(t => t.IsValueType && !t.IsEnum && t.Namespace == typeof(udmabuf_create).Namespace)
        .ToArray();

    [Fact]
    public void EveryBindingStructIsMarkedForTheLayoutCheck()
    {
        Assert.Equal(4, BindingStructs.Length);
        Assert.All(BindingStructs, t => Assert.NotNull(t.GetCustomAttribute<CTypeAttribute>()));
    }

    [CCompilerFact]
    public void EveryStructAndIoctlNumberMatchesTheCHeaders()
    {
        var checks = new List<(string Key, string Expression, long Managed)>
        {
            ("ioctl UDMABUF_CREATE", "UDMABUF_CREATE", DmaBufSources.UdmabufCreate),
            ("ioctl DRM_IOCTL_MODE_CREATE_DUMB", "DRM_IOCTL_MODE_CREATE_DUMB", DmaBufSources.DrmIoctlModeCreateDumb),
            ("ioctl DRM_IOCTL_PRIME_HANDLE_TO_FD", "DRM_IOCTL_PRIME_HANDLE_TO_FD", DmaBufSources.DrmIoctlPrimeHandleToFd),
            ("ioctl DRM_IOCTL_GEM_CLOSE", "DRM_IOCTL_GEM_CLOSE", DmaBufSources.DrmIoctlGemClose),
        };
        foreach (var t in BindingStructs)
        {
            var c = t.GetCustomAttribute<CTypeAttribute>()!.CName;
            checks.Add(($"size {c}", $"sizeof({c})", Marshal.SizeOf(t)));
            foreach (var f in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
            {
                checks.Add(($"offset {c} {f.Name}", $"offsetof({c}, {f.Name})", Marshal.OffsetOf(t, f.Name).ToInt64()));
                checks.Add(($"fieldsize {c} {f.Name}", $"sizeof((({c} *)0)->{f.Name})", Marshal.SizeOf(f.FieldType)));
            }
        }
        var source = new StringBuilder("#include <stddef.h>\n#include <stdio.h>\n#include <linux/udmabuf.h>\n#include <libdrm/drm.h>\n#include <libdrm/drm_mode.h>\nint main(void) {\n");
        foreach (var (key, expression, _) in checks) source.AppendLine($"  printf(\"%s=%lld\\n\", \"{key}\", (long long)({expression}));");
        source.AppendLine("  return 0;\n}");

        var native = Compile(source.ToString());
        var mismatches = checks.Where(c => !native.TryGetValue(c.Key, out var v) || v != c.Managed)
            .Select(c => $"{c.Key}: C {(native.TryGetValue(c.Key, out var v) ? v : "missing")}, binding {c.Managed}").ToList();
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {checks.Count} checks differ:\n" + string.Join("\n", mismatches));
    }

    private static Dictionary<string, long> Compile(string source)
    {
        string dir = Directory.CreateTempSubdirectory("pdv-dmabuf-layout-").FullName;
        try
        {
            string src = Path.Combine(dir, "layout.c"), exe = Path.Combine(dir, "layout");
            File.WriteAllText(src, source);
            var (rc, output) = Run(CCompilerFactAttribute.FindGcc()!, $"-std=gnu11 -Wall -o {exe} {src}");
            Assert.True(rc == 0, $"gcc failed ({rc}; libdrm-dev installed? scripts/setup.sh installs it):\n{output}");
            (rc, output) = Run(exe, "");
            Assert.Equal(0, rc);
            return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('='))
                .ToDictionary(p => p[0], p => long.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static (int ExitCode, string Output) Run(string file, string args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(60_000)) { process.Kill(true); throw new TimeoutException($"{file} did not finish in 60 s"); }
        return (process.ExitCode, stdout.GetAwaiter().GetResult() + stderr.GetAwaiter().GetResult());
    }
}
