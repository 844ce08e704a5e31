using System.Reflection;

namespace PdRdma.Transport.Serialization;

/// <summary>One keyed property or field of an <see cref="ObjectShape"/>.</summary>
internal sealed class ShapeMember(MemberInfo member, Type type, int key)
{
    public Type Type { get; } = type;

    public int Key { get; } = key;

    public string Name => member.Name;

    /// <summary>False for get-only properties, which only a constructor can fill.</summary>
    public bool CanSet => member switch
    {
        PropertyInfo p => p.GetSetMethod(nonPublic: true) is not null,
        FieldInfo f => !f.IsInitOnly,
        _ => false,
    };

    public object? Get(object instance) => member switch
    {
        PropertyInfo p => p.GetValue(instance),
        FieldInfo f => f.GetValue(instance),
        _ => null,
    };

    public void Set(object instance, object? value)
    {
        switch (member)
        {
            case PropertyInfo p: p.SetValue(instance, value, BindingFlags.DoNotWrapExceptions, null, null, null); break;
            case FieldInfo f: f.SetValue(instance, value, BindingFlags.DoNotWrapExceptions, null, null); break;
        }
    }
}
