using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
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
    public async Task EveryStructMatchesTheCHeaders()
    {
        var checks = new List<CLayoutProgram.LayoutCheck>();
        var cTypes = BindingStructs.Where(t => t.GetCustomAttribute<CTypeAttribute>() is not null).ToList();
        Assert.NotEmpty(cTypes);
        foreach (var t in cTypes)
        {
            string cName = t.GetCustomAttribute<CTypeAttribute>()!.CName;
            checks.Add(new($"size {cName}", $"sizeof({cName})", Marshal.SizeOf(t)));
            CollectChecks(t, cName, "", 0, checks, new HashSet<Type>());
        }
        var mismatches = await CLayoutProgram.MismatchesAsync(["poll.h", "pthread.h", "infiniband/verbs.h"], checks);
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {checks.Count} layout checks differ:\n" + string.Join("\n", mismatches));
    }

    // Fields of anonymous unions/structs are checked at their C designator (outer.inner) inside the named struct.
    private static void CollectChecks(Type type, string cType, string prefix, long baseOffset, List<CLayoutProgram.LayoutCheck> checks, HashSet<Type> reached)
    {
        foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
        {
            string designator = prefix + field.Name;
            long offset = baseOffset + Marshal.OffsetOf(type, field.Name).ToInt64();
            checks.Add(new($"offset {cType} {designator}", $"offsetof({cType}, {designator})", offset));
            checks.Add(new($"fieldsize {cType} {designator}", $"sizeof((({cType} *)0)->{designator})", CLayoutProgram.FieldSize(field)));
            if (field.FieldType.GetCustomAttribute<CAnonymousAttribute>() is not null)
            {
                reached.Add(field.FieldType);
                CollectChecks(field.FieldType, cType, designator + ".", offset, checks, reached);
            }
        }
    }
}
