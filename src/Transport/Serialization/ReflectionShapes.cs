using System.Buffers;
using System.Collections;
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using MessagePack;

namespace PdRdma.Transport.Serialization;

/// <summary>
/// Writes and reads values by their runtime type, the way MessagePack's dynamic resolvers lay them out: objects as arrays
/// indexed by key (nil in unused slots), unions as [key, value], enums as their integer value. Only the kinds the wire
/// types use are supported; anything else is refused when the formatter is requested, not half-way through a message.
/// </summary>
[UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "libpdrdma keeps the wire types whole (src/Native/ILLink.Descriptors.xml)")]
[UnconditionalSuppressMessage("Trimming", "IL2067", Justification = "libpdrdma keeps the wire types whole (src/Native/ILLink.Descriptors.xml)")]
[UnconditionalSuppressMessage("Trimming", "IL2070", Justification = "libpdrdma keeps the wire types whole (src/Native/ILLink.Descriptors.xml)")]
[UnconditionalSuppressMessage("Trimming", "IL2072", Justification = "libpdrdma keeps the wire types whole (src/Native/ILLink.Descriptors.xml)")]
[UnconditionalSuppressMessage("AOT", "IL3050", Justification = "T[] of a reference type: no code to generate")]
[UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "libpdrdma keeps the wire types whole (src/Native/ILLink.Descriptors.xml)")]
internal static class ReflectionShapes
{
    private const BindingFlags Instance = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;
    private static readonly ConcurrentDictionary<Type, ObjectShape> Objects = new();
    private static readonly ConcurrentDictionary<Type, Dictionary<int, Type>> Unions = new();
    private static readonly ConcurrentDictionary<Type, bool> Supported = new();

    /// <summary>Whether every member reachable from <paramref name="type"/> is of a supported kind.</summary>
    public static bool IsSupported(Type type) => Supported.GetOrAdd(type, t => Check(t, []));

    public static void Write(ref MessagePackWriter writer, Type type, object? value, MessagePackSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }
        type = Nullable.GetUnderlyingType(type) ?? type;
        switch (value)
        {
            case string s: writer.Write(s); return;
            case byte[] bytes: writer.Write(bytes); return;
            case bool b: writer.Write(b); return;
            case double d: writer.Write(d); return;
            case float f: writer.Write(f); return;
            case ulong u: writer.Write(u); return;
            case Enum e when Type.GetTypeCode(e.GetType()) == TypeCode.UInt64: writer.Write(Convert.ToUInt64(e)); return;
            case Enum e: writer.Write(Convert.ToInt64(e)); return;
            case int or long or short or sbyte or byte or ushort or uint: writer.Write(Convert.ToInt64(value)); return;
        }
        if (type.IsArray)
        {
            var array = (Array)value;
            var element = type.GetElementType()!;
            writer.WriteArrayHeader(array.Length);
            foreach (var item in array) Write(ref writer, element, item, options);
            return;
        }
        if (ListElement(type) is { } listed)
        {
            var items = (ICollection)value;
            writer.WriteArrayHeader(items.Count);
            foreach (var item in items) Write(ref writer, listed, item, options);
            return;
        }
        if (DictionaryTypes(type) is { } kv)
        {
            var map = (IDictionary)value;
            writer.WriteMapHeader(map.Count);
            foreach (DictionaryEntry entry in map)
            {
                Write(ref writer, kv.Key, entry.Key, options);
                Write(ref writer, kv.Value, entry.Value, options);
            }
            return;
        }
        if (type.IsInterface || type.IsAbstract)
        {
            var cases = UnionCases(type);
            var actual = value.GetType();
            var key = cases.FirstOrDefault(c => c.Value == actual);
            if (key.Value is null) throw new MessagePackSerializationException($"{actual.Name} is not a union case of {type.Name}");
            writer.WriteArrayHeader(2);
            writer.Write(key.Key);
            Write(ref writer, actual, value, options);
            return;
        }
        var shape = Shape(type);
        writer.WriteArrayHeader(shape.ByKey.Length);
        foreach (var member in shape.ByKey)
        {
            if (member is null) writer.WriteNil();
            else Write(ref writer, member.Type, member.Get(value), options);
        }
    }

    public static object? Read(ref MessagePackReader reader, Type type, MessagePackSerializerOptions options)
    {
        var underlying = Nullable.GetUnderlyingType(type);
        if ((underlying is not null || !type.IsValueType) && reader.TryReadNil()) return null;
        type = underlying ?? type;
        if (type == typeof(string)) return reader.ReadString();
        if (type == typeof(byte[])) return reader.ReadBytes() is { } bytes ? bytes.ToArray() : null;
        if (type == typeof(bool)) return reader.ReadBoolean();
        if (type == typeof(double)) return reader.ReadDouble();
        if (type == typeof(float)) return reader.ReadSingle();
        if (type == typeof(int)) return reader.ReadInt32();
        if (type == typeof(long)) return reader.ReadInt64();
        if (type == typeof(ulong)) return reader.ReadUInt64();
        if (type == typeof(uint)) return reader.ReadUInt32();
        if (type == typeof(short)) return reader.ReadInt16();
        if (type == typeof(ushort)) return reader.ReadUInt16();
        if (type == typeof(byte)) return reader.ReadByte();
        if (type == typeof(sbyte)) return reader.ReadSByte();
        if (type.IsEnum)
        {
            return Type.GetTypeCode(type) == TypeCode.UInt64 ? Enum.ToObject(type, reader.ReadUInt64()) : Enum.ToObject(type, reader.ReadInt64());
        }
        options.Security.DepthStep(ref reader);
        try
        {
            if (type.IsArray)
            {
                var element = type.GetElementType()!;
                var count = reader.ReadArrayHeader();
                var array = Array.CreateInstanceFromArrayType(type, count);
                for (var i = 0; i < count; i++) array.SetValue(Read(ref reader, element, options), i);
                return array;
            }
            if (ListElement(type) is { } listed)
            {
                // read into T[], which every supported list interface accepts
                var count = reader.ReadArrayHeader();
                var array = Array.CreateInstanceFromArrayType(listed.MakeArrayType(), count);
                for (var i = 0; i < count; i++) array.SetValue(Read(ref reader, listed, options), i);
                return array;
            }
            if (DictionaryTypes(type) is { } kv)
            {
                var count = reader.ReadMapHeader();
                var map = NewStringMap(kv.Value, options);
                for (var i = 0; i < count; i++)
                {
                    var key = Read(ref reader, kv.Key, options) ?? throw new MessagePackSerializationException("map key is nil");
                    map[key] = Read(ref reader, kv.Value, options);
                }
                return map;
            }
            if (type.IsInterface || type.IsAbstract)
            {
                if (reader.ReadArrayHeader() != 2) throw new MessagePackSerializationException($"{type.Name} union is not a [key, value] pair");
                var key = reader.ReadInt32();
                if (!UnionCases(type).TryGetValue(key, out var actual)) throw new MessagePackSerializationException($"unknown {type.Name} union key {key}");
                return Read(ref reader, actual, options);
            }
            return ReadObject(ref reader, Shape(type), options);
        }
        finally
        {
            reader.Depth--;
        }
    }

    private static object ReadObject(ref MessagePackReader reader, ObjectShape shape, MessagePackSerializerOptions options)
    {
        var count = reader.ReadArrayHeader();
        var values = new object?[shape.ByKey.Length];
        var present = new bool[shape.ByKey.Length];
        for (var i = 0; i < count; i++)
        {
            if (i < shape.ByKey.Length && shape.ByKey[i] is { } member)
            {
                values[i] = Read(ref reader, member.Type, options);
                present[i] = true;
            }
            else
            {
                reader.Skip();
            }
        }
        var args = new object?[shape.ConstructorKeys.Length];
        for (var p = 0; p < args.Length; p++)
        {
            var key = shape.ConstructorKeys[p];
            args[p] = present[key] ? values[key] : DefaultOf(shape.ByKey[key]!.Type);
        }
        var instance = shape.Constructor.Invoke(BindingFlags.DoNotWrapExceptions, null, args, null);
        for (var key = 0; key < values.Length; key++)
        {
            if (!present[key] || shape.ConstructorKeys.Contains(key) || shape.ByKey[key] is not { CanSet: true } member) continue;
            member.Set(instance, values[key]);
        }
        return instance;
    }

    private static object? DefaultOf(Type type) => type.IsValueType ? Activator.CreateInstance(type) : null;

    private static IDictionary NewStringMap(Type valueType, MessagePackSerializerOptions options)
    {
        var comparer = options.Security.GetEqualityComparer<string>();
        if (valueType == typeof(byte[])) return new Dictionary<string, byte[]?>(comparer);
        if (valueType == typeof(string)) return new Dictionary<string, string?>(comparer);
        if (valueType == typeof(long)) return new Dictionary<string, long>(comparer);
        throw new MessagePackSerializationException($"maps of string to {valueType.Name} are not supported");
    }

    /// <summary>Element type of a list interface a T[] satisfies (IReadOnlyList, IList, ICollection, IEnumerable...).</summary>
    private static Type? ListElement(Type type)
    {
        if (!type.IsGenericType || !type.IsInterface) return null;
        var definition = type.GetGenericTypeDefinition();
        return definition == typeof(IReadOnlyList<>) || definition == typeof(IList<>) || definition == typeof(IReadOnlyCollection<>)
            || definition == typeof(ICollection<>) || definition == typeof(IEnumerable<>)
            ? type.GetGenericArguments()[0]
            : null;
    }

    private static KeyValuePair<Type, Type>? DictionaryTypes(Type type)
    {
        if (!type.IsGenericType) return null;
        var definition = type.GetGenericTypeDefinition();
        if (definition != typeof(IReadOnlyDictionary<,>) && definition != typeof(IDictionary<,>) && definition != typeof(Dictionary<,>)) return null;
        var args = type.GetGenericArguments();
        return new(args[0], args[1]);
    }

    private static Dictionary<int, Type> UnionCases(Type type) => Unions.GetOrAdd(type, t =>
        t.GetCustomAttributes<UnionAttribute>().ToDictionary(u => u.Key, u => u.SubType));

    private static ObjectShape Shape(Type type) => Objects.GetOrAdd(type, BuildShape);

    private static ObjectShape BuildShape(Type type)
    {
        if (type.GetCustomAttribute<MessagePackObjectAttribute>() is null) throw new MessagePackSerializationException($"{type.Name} is not a [MessagePackObject]");
        var members = new List<ShapeMember>();
        foreach (var p in type.GetProperties(Instance))
        {
            if (p.GetCustomAttribute<KeyAttribute>() is { IntKey: { } key } && p.GetIndexParameters().Length == 0) members.Add(new ShapeMember(p, p.PropertyType, key));
        }
        foreach (var f in type.GetFields(Instance))
        {
            if (f.GetCustomAttribute<KeyAttribute>() is { IntKey: { } key }) members.Add(new ShapeMember(f, f.FieldType, key));
        }
        if (members.Count == 0) throw new MessagePackSerializationException($"{type.Name} has no integer [Key] members");
        var byKey = new ShapeMember?[members.Max(m => m.Key) + 1];
        foreach (var m in members)
        {
            if (byKey[m.Key] is not null) throw new MessagePackSerializationException($"{type.Name} uses key {m.Key} twice");
            byKey[m.Key] = m;
        }
        // MessagePack's rule: a parameterless constructor, else the constructor whose parameters all name keyed members.
        var constructors = type.GetConstructors(Instance);
        if (constructors.FirstOrDefault(c => c.GetParameters().Length == 0) is { } parameterless) return new ObjectShape(type, byKey, parameterless, []);
        foreach (var c in constructors.OrderByDescending(c => c.GetParameters().Length))
        {
            var keys = c.GetParameters()
                .Select(p => members.FirstOrDefault(m => string.Equals(m.Name, p.Name, StringComparison.OrdinalIgnoreCase) && m.Type == p.ParameterType)?.Key ?? -1)
                .ToArray();
            if (keys.All(k => k >= 0)) return new ObjectShape(type, byKey, c, keys);
        }
        throw new MessagePackSerializationException($"{type.Name} has no constructor MessagePack can call");
    }

    private static bool Check(Type type, HashSet<Type> seen)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(byte[])) return true;
        if (!seen.Add(type)) return true;
        if (type.IsArray) return type.GetArrayRank() == 1 && Check(type.GetElementType()!, seen);
        if (ListElement(type) is { } listed) return Check(listed, seen);
        if (DictionaryTypes(type) is { } kv) return kv.Key == typeof(string) && (kv.Value == typeof(byte[]) || kv.Value == typeof(string) || kv.Value == typeof(long));
        if (type.IsInterface || type.IsAbstract)
        {
            var cases = UnionCases(type);
            return cases.Count > 0 && cases.Values.All(c => Check(c, seen));
        }
        try
        {
            return Shape(type).ByKey.All(m => m is null || Check(m.Type, seen));
        }
        catch (MessagePackSerializationException)
        {
            return false;
        }
    }
}
