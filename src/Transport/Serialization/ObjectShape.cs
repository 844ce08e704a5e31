using System.Reflection;

namespace PdRdma.Transport.Serialization;

/// <summary>
/// How one <c>[MessagePackObject]</c> type maps onto a MessagePack array: members by key (null where a key is unused), and
/// how to build an instance: a parameterless constructor then setters, or the constructor whose parameters name members.
/// </summary>
internal sealed class ObjectShape(Type type, ShapeMember?[] byKey, ConstructorInfo constructor, int[] constructorKeys)
{
    public Type Type { get; } = type;

    /// <summary>Index = key; the array's length is the written array's length.</summary>
    public ShapeMember?[] ByKey { get; } = byKey;

    public ConstructorInfo Constructor { get; } = constructor;

    /// <summary>Key of each constructor parameter, in parameter order.</summary>
    public int[] ConstructorKeys { get; } = constructorKeys;
}
