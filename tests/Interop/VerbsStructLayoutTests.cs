using System.Diagnostics;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using PdRdma.Interop.Verbs;
using PdRdma.Interop.Verbs.Native;

namespace PdRdma.Tests.Interop;

/// <summary>
/// Every struct the verbs binding declares is compared with the installed C headers: sizeof and each
/// field's offsetof and size, by compiling and running a C program generated from the binding itself.
/// </summary>
[Trait("Category", "Verbs")]
public sealed class VerbsStructLayoutTests
{
    private static readonly Type[] BindingStructs = typeof(Ibv).Assembly.GetTypes()
        .Where(t => t.IsValueType && !t.IsEnum && t.Namespace == typeof(ibv_sge).Namespace)
        .Where(t => t.GetCustomAttribute<CompilerGeneratedAttribute>() is null && t.GetCustomAttribute<UnsafeValueTypeAttribute>() is null)
        .ToArray();

    private sealed record Check(string Key, string CType, string? Designator, long ManagedValue, bool IsOffset);

    [Fact]
    public void EveryBindingStructIsMarkedForTheLayoutCheck()
    {
        var unmarked = BindingStructs
            .Where(t => t.GetCustomAttribute<CTypeAttribute>() is null && t.GetCustomAttribute<CAnonymousAttribute>() is null)
            .Select(t => t.FullName).ToList();
        Assert.True(unmarked.Count == 0, "structs without [CType] or [CAnonymous] escape the layout check: " + string.Join(", ", unmarked));

        var reached = new HashSet<Type>();
        foreach (var t in BindingStructs.Where(t => t.GetCustomAttribute<CTypeAttribute>() is not null))
            CollectChecks(t, t.GetCustomAttribute<CTypeAttribute>()!.CName, "", 0, [], reached);
        var unreached = BindingStructs.Where(t => t.GetCustomAttribute<CAnonymousAttribute>() is not null && !reached.Contains(t))
            .Select(t => t.FullName).ToList();
        Assert.True(unreached.Count == 0, "[CAnonymous] structs not reachable from any [CType] struct: " + string.Join(", ", unreached));
        Assert.Contains(BindingStructs, t => t == typeof(ibv_send_wr));
    }

    [CCompilerFact]
    public void EveryStructMatchesTheCHeaders()
    {
        var checks = new List<Check>();
        var cTypes = BindingStructs.Where(t => t.GetCustomAttribute<CTypeAttribute>() is not null).ToList();
        Assert.NotEmpty(cTypes);
        foreach (var t in cTypes)
        {
            string cName = t.GetCustomAttribute<CTypeAttribute>()!.CName;
            checks.Add(new Check($"size {cName}", cName, null, Marshal.SizeOf(t), IsOffset: false));
            CollectChecks(t, cName, "", 0, checks, new HashSet<Type>());
        }

        var native = RunCProgram(GenerateC(checks));
        var mismatches = new List<string>();
        foreach (var check in checks)
        {
            if (!native.TryGetValue(check.Key, out long cValue)) mismatches.Add($"{check.Key}: not printed by the C program");
            else if (cValue != check.ManagedValue) mismatches.Add($"{check.Key}: C {cValue}, binding {check.ManagedValue}");
        }
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {checks.Count} layout checks differ:\n" + string.Join("\n", mismatches));
    }

    private static void CollectChecks(Type type, string cType, string prefix, long baseOffset, List<Check> checks, HashSet<Type> reached)
    {
        foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
        {
            string designator = prefix + field.Name;
            long offset = baseOffset + Marshal.OffsetOf(type, field.Name).ToInt64();
            checks.Add(new Check($"offset {cType} {designator}", cType, designator, offset, IsOffset: true));
            checks.Add(new Check($"fieldsize {cType} {designator}", cType, designator, FieldSize(field), IsOffset: false));
            if (field.FieldType.GetCustomAttribute<CAnonymousAttribute>() is not null)
            {
                reached.Add(field.FieldType);
                CollectChecks(field.FieldType, cType, designator + ".", offset, checks, reached);
            }
        }
    }

    private static long FieldSize(FieldInfo field)
    {
        if (field.GetCustomAttribute<FixedBufferAttribute>() is { } fixedBuffer)
            return fixedBuffer.Length * Marshal.SizeOf(fixedBuffer.ElementType);
        if (field.FieldType.IsPointer) return IntPtr.Size;
        if (field.FieldType.IsEnum) return Marshal.SizeOf(Enum.GetUnderlyingType(field.FieldType));
        return Marshal.SizeOf(field.FieldType);
    }

    private static string GenerateC(List<Check> checks)
    {
        var c = new StringBuilder();
        c.AppendLine("#include <stddef.h>\n#include <stdio.h>\n#include <poll.h>\n#include <pthread.h>\n#include <infiniband/verbs.h>\nint main(void) {");
        foreach (var check in checks)
        {
            string expr = check.Designator is null ? $"sizeof({check.CType})"
                : check.IsOffset ? $"offsetof({check.CType}, {check.Designator})"
                : $"sizeof(((({check.CType} *)0)->{check.Designator}))";
            c.AppendLine($"  printf(\"%s=%zu\\n\", \"{check.Key}\", (size_t)({expr}));");
        }
        c.AppendLine("  return 0;\n}");
        return c.ToString();
    }

    private static Dictionary<string, long> RunCProgram(string source)
    {
        string dir = Directory.CreateTempSubdirectory("pdv-layout-").FullName;
        try
        {
            string src = Path.Combine(dir, "layout.c"), exe = Path.Combine(dir, "layout");
            File.WriteAllText(src, source);
            var (rc, output) = Run(CCompilerFactAttribute.FindGcc()!, $"-std=gnu11 -Wall -o {exe} {src}");
            Assert.True(rc == 0, $"gcc failed ({rc}):\n{output}\n--- source ---\n{source}");
            (rc, output) = Run(exe, "");
            Assert.Equal(0, rc);
            return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => line.Split('='))
                .ToDictionary(parts => parts[0], parts => long.Parse(parts[1]));
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
