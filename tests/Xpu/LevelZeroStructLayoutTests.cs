using System.Diagnostics;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using PdRdma.Interop.LevelZero;
using PdRdma.Interop.LevelZero.Native;
using PdRdma.Interop.Libc.Native;
using PdRdma.Interop.Verbs.Native;

namespace PdRdma.Tests.Xpu;

/// <summary>
/// Every struct of the Level Zero binding (and the SCM_RIGHTS structs it travels with) compared with the installed
/// headers (libze-dev, libc6-dev): sizeof, and each field's offsetof and size, by compiling and running a C program
/// generated from the binding itself; enum values checked the same way.
/// </summary>
public sealed class LevelZeroStructLayoutTests
{
    private static readonly Type[] BindingStructs = typeof(Ze).Assembly.GetTypes()
        .Where(t => t.IsValueType && !t.IsEnum && (t.Namespace == typeof(ze_ipc_mem_handle_t).Namespace || t.Namespace == typeof(msghdr).Namespace))
        .Where(t => t.GetCustomAttribute<CompilerGeneratedAttribute>() is null && t.GetCustomAttribute<UnsafeValueTypeAttribute>() is null)
        .ToArray();

    private static readonly Type[] BindingEnums =
        [typeof(ze_result_t), typeof(ze_structure_type_t), typeof(ze_memory_type_t), typeof(ze_external_memory_type_flags_t), typeof(ze_command_queue_mode_t)];

    [Fact]
    public void EveryBindingStructIsMarkedForTheLayoutCheck()
    {
        Assert.Contains(typeof(ze_device_properties_t), BindingStructs);
        Assert.Contains(typeof(msghdr), BindingStructs);
        var unmarked = BindingStructs.Where(t => t.GetCustomAttribute<CTypeAttribute>() is null).Select(t => t.FullName).ToList();
        Assert.True(unmarked.Count == 0, "structs without [CType] escape the layout check: " + string.Join(", ", unmarked));
    }

    [LevelZeroFact]
    public void EveryStructAndEnumMatchesTheCHeaders()
    {
        var checks = new List<(string Key, string Expression, long Managed)>();
        foreach (var t in BindingStructs)
        {
            var c = t.GetCustomAttribute<CTypeAttribute>()!.CName;
            checks.Add(($"size {c}", $"sizeof({c})", Marshal.SizeOf(t)));
            foreach (var f in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
            {
                checks.Add(($"offset {c} {f.Name}", $"offsetof({c}, {f.Name})", Marshal.OffsetOf(t, f.Name).ToInt64()));
                checks.Add(($"fieldsize {c} {f.Name}", $"sizeof((({c} *)0)->{f.Name})", FieldSize(f)));
            }
        }
        foreach (var e in BindingEnums)
        {
            foreach (var name in Enum.GetNames(e))
            {
                checks.Add(($"enum {name}", $"(long long)({name})", Convert.ToInt64(Enum.Parse(e, name), System.Globalization.CultureInfo.InvariantCulture)));
            }
        }
        var source = new StringBuilder("#include <stddef.h>\n#include <stdio.h>\n#include <sys/socket.h>\n#include <sys/uio.h>\n#include <level_zero/ze_api.h>\nint main(void) {\n");
        foreach (var (key, expression, _) in checks) source.AppendLine($"  printf(\"%s=%lld\\n\", \"{key}\", (long long)({expression}));");
        source.AppendLine("  return 0;\n}");

        var native = RunC(source.ToString());
        var mismatches = checks.Where(c => !native.TryGetValue(c.Key, out var v) || v != c.Managed)
            .Select(c => $"{c.Key}: C {(native.TryGetValue(c.Key, out var v) ? v : "missing")}, binding {c.Managed}").ToList();
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {checks.Count} checks differ:\n" + string.Join("\n", mismatches));
    }

    private static long FieldSize(FieldInfo field)
    {
        if (field.GetCustomAttribute<FixedBufferAttribute>() is { } buffer) return buffer.Length * Marshal.SizeOf(buffer.ElementType);
        if (field.FieldType.IsPointer) return IntPtr.Size;
        if (field.FieldType.IsEnum) return Marshal.SizeOf(Enum.GetUnderlyingType(field.FieldType));
        return Marshal.SizeOf(field.FieldType);
    }

    private static Dictionary<string, long> RunC(string source)
    {
        var dir = Directory.CreateTempSubdirectory("pdrdma-ze-layout-").FullName;
        try
        {
            string src = Path.Combine(dir, "layout.c"), exe = Path.Combine(dir, "layout");
            File.WriteAllText(src, source);
            var (rc, output) = Run(Interop.CCompilerFactAttribute.FindGcc()!, ["-std=gnu11", "-Wall", "-o", exe, src]);
            Assert.True(rc == 0, $"gcc failed ({rc}):\n{output}");
            (rc, output) = Run(exe, []);
            Assert.Equal(0, rc);
            return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('='))
                .ToDictionary(p => p[0], p => long.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static (int ExitCode, string Output) Run(string file, string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(60_000)) { process.Kill(true); throw new TimeoutException($"{file} did not finish in 60 s"); }
        return (process.ExitCode, stdout.GetAwaiter().GetResult() + stderr.GetAwaiter().GetResult());
    }
}
