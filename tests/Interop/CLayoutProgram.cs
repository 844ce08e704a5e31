using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using PdRdma.Hosting.Processes;

namespace PdRdma.Tests.Interop;

/// <summary>
/// Checks a binding against the installed C headers: each <see cref="LayoutCheck"/> is a C expression (sizeof,
/// offsetof, an enum value) and the value the binding has for it; a generated C program prints every expression,
/// and the differences come back as lines. Shared by the verbs and Level Zero layout tests.
/// </summary>
internal static class CLayoutProgram
{
    /// <summary>One value to compare: a unique key, the C expression, and what the managed binding says.</summary>
    public sealed record LayoutCheck(string Key, string Expression, long Managed);

    /// <summary>The size of a struct field as C sees it (fixed buffers, pointers, enums by their underlying type).</summary>
    public static long FieldSize(FieldInfo field)
    {
        if (field.GetCustomAttribute<FixedBufferAttribute>() is { } buffer) return buffer.Length * Marshal.SizeOf(buffer.ElementType);
        if (field.FieldType.IsPointer) return IntPtr.Size;
        if (field.FieldType.IsEnum) return Marshal.SizeOf(Enum.GetUnderlyingType(field.FieldType));
        return Marshal.SizeOf(field.FieldType);
    }

    /// <summary>Compiles and runs the program over <paramref name="checks"/>; returns one line per check whose value differs.</summary>
    public static async Task<List<string>> MismatchesAsync(IEnumerable<string> headers, IReadOnlyList<LayoutCheck> checks)
    {
        var source = new StringBuilder("#include <stddef.h>\n#include <stdio.h>\n");
        foreach (var header in headers) source.AppendLine($"#include <{header}>");
        source.AppendLine("int main(void) {");
        foreach (var check in checks) source.AppendLine($"  printf(\"%s=%lld\\n\", \"{check.Key}\", (long long)({check.Expression}));");
        source.AppendLine("  return 0;\n}");

        var dir = Directory.CreateTempSubdirectory("pdrdma-layout-").FullName;
        try
        {
            string src = Path.Combine(dir, "layout.c"), exe = Path.Combine(dir, "layout");
            await File.WriteAllTextAsync(src, source.ToString());
            var (rc, stdout, stderr) = await ChildProcess.RunAsync([CCompilerFactAttribute.FindGcc()!, "-std=gnu11", "-Wall", "-o", exe, src], TimeSpan.FromSeconds(60), CancellationToken.None);
            Assert.True(rc == 0, $"gcc failed ({rc}):\n{stdout}{stderr}\n--- source ---\n{source}");
            (rc, stdout, stderr) = await ChildProcess.RunAsync([exe], TimeSpan.FromSeconds(60), CancellationToken.None);
            Assert.True(rc == 0, stderr);
            var native = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('='))
                .ToDictionary(p => p[0], p => long.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture));
            return checks.Where(c => !native.TryGetValue(c.Key, out var v) || v != c.Managed)
                .Select(c => $"{c.Key}: C {(native.TryGetValue(c.Key, out var v) ? v : "missing")}, binding {c.Managed}").ToList();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
