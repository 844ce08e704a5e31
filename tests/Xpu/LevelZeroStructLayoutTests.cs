using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using PdRdma.Interop.LevelZero;
using PdRdma.Interop.LevelZero.Native;
using PdRdma.Interop.Libc.Native;
using PdRdma.Interop.Verbs.Native;
using PdRdma.Tests.Interop;

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
    public async Task EveryStructAndEnumMatchesTheCHeaders()
    {
        var checks = new List<CLayoutProgram.LayoutCheck>();
        foreach (var t in BindingStructs)
        {
            var c = t.GetCustomAttribute<CTypeAttribute>()!.CName;
            checks.Add(new($"size {c}", $"sizeof({c})", Marshal.SizeOf(t)));
            foreach (var f in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
            {
                checks.Add(new($"offset {c} {f.Name}", $"offsetof({c}, {f.Name})", Marshal.OffsetOf(t, f.Name).ToInt64()));
                checks.Add(new($"fieldsize {c} {f.Name}", $"sizeof((({c} *)0)->{f.Name})", CLayoutProgram.FieldSize(f)));
            }
        }
        foreach (var e in BindingEnums)
        {
            foreach (var name in Enum.GetNames(e))
            {
                checks.Add(new($"enum {name}", $"(long long)({name})", Convert.ToInt64(Enum.Parse(e, name), System.Globalization.CultureInfo.InvariantCulture)));
            }
        }
        var mismatches = await CLayoutProgram.MismatchesAsync(["sys/socket.h", "sys/uio.h", "level_zero/ze_api.h"], checks);
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {checks.Count} checks differ:\n" + string.Join("\n", mismatches));
    }
}
