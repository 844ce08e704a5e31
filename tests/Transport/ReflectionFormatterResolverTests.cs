using System.Buffers;
using System.Reflection;
using MessagePack;
using MessagePack.Resolvers;
using PdRdma.Daemon.Protocol;
using PdRdma.Transport;
using PdRdma.Transport.Serialization;

namespace PdRdma.Tests.Transport;

/// <summary>
/// The resolver libpdrdma.so serializes with (no run-time code generation) must write exactly the bytes MessagePack's
/// dynamic resolver writes, for every wire type, and read them back; and refuse hostile input with MessagePack's errors.
/// </summary>
public sealed class ReflectionFormatterResolverTests
{
    private static readonly MessagePackSerializerOptions Dynamic = MessagePackSerializerOptions.Standard.WithResolver(StandardResolverAllowPrivate.Instance);
    private static readonly MessagePackSerializerOptions Reflection = MessagePackSerializerOptions.Standard
        .WithResolver(ReflectionFormatterResolver.Instance).WithSecurity(MessagePackSecurity.UntrustedData.WithMaximumObjectGraphDepth(16));

    public static TheoryData<string> WireTypes()
    {
        var data = new TheoryData<string>();
        foreach (var type in AllWireTypes()) data.Add(type.FullName!);
        return data;
    }

    private static IEnumerable<Type> AllWireTypes() =>
        new[] { typeof(TransferAgent).Assembly, typeof(EngineFrame).Assembly }
            .SelectMany(a => a.GetTypes())
            .Where(t => t.GetCustomAttribute<MessagePackObjectAttribute>() is not null && !t.IsGenericTypeDefinition)
            .OrderBy(t => t.FullName, StringComparer.Ordinal);

    [Fact]
    public void EveryWireTypeIsSupported()
    {
        var types = AllWireTypes().ToArray();
        Assert.True(types.Length > 20, $"only {types.Length} wire types found");
        foreach (var type in types) Assert.True(ReflectionShapesProbe(type), $"{type.FullName} is not supported by the reflection resolver");
    }

    [Theory]
    [MemberData(nameof(WireTypes))]
    public void SameBytesAsTheDynamicResolver(string typeName)
    {
        var type = AllWireTypes().Single(t => t.FullName == typeName);
        var sample = Sample(type);
        var value = MessagePackSerializer.Deserialize(type, sample, Dynamic);
        var expected = MessagePackSerializer.Serialize(type, value, Dynamic);
        var actual = MessagePackSerializer.Serialize(type, value, Reflection);
        Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(actual));
        var back = MessagePackSerializer.Deserialize(type, actual, Reflection);
        Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(MessagePackSerializer.Serialize(type, back, Dynamic)));
    }

    [Fact]
    public void UnionEnvelopeRoundTrips()
    {
        var frame = new EngineFrame { Id = 9, Message = new WriteRequest { RequestId = "r", Layers = [1, 2], TargetLayout = new KvLayout(2, 1, 8, 4, KvDType.Float16, 3) } };
        var bytes = MessagePackSerializer.Serialize(frame, Reflection);
        Assert.Equal(Convert.ToHexString(MessagePackSerializer.Serialize(frame, Dynamic)), Convert.ToHexString(bytes));
        var back = MessagePackSerializer.Deserialize<EngineFrame>(bytes, Reflection);
        var request = Assert.IsType<WriteRequest>(back.Message);
        Assert.Equal([1, 2], request.Layers);
        Assert.Equal(frame.Message is WriteRequest w ? w.TargetLayout : null, request.TargetLayout);
    }

    [Fact]
    public void HostileInputIsRefusedWithMessagePackErrors()
    {
        var good = MessagePackSerializer.Serialize(new EngineFrame { Id = 1, Message = new ReserveRequest { RequestId = "r", Blocks = [1, 2, 3] } }, Dynamic);
        for (var cut = 0; cut < good.Length; cut++)
        {
            Assert.ThrowsAny<MessagePackSerializationException>(() => MessagePackSerializer.Deserialize<EngineFrame>(good.AsMemory(0, cut), Reflection));
        }
        // an unknown union key, an array claiming more elements than there are bytes, and a layout its constructor refuses
        Assert.ThrowsAny<MessagePackSerializationException>(() => MessagePackSerializer.Deserialize<EngineFrame>(Build((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(3); w.Write(1); w.Write(1L); w.WriteArrayHeader(2); w.Write(999); w.WriteNil();
        }), Reflection));
        Assert.ThrowsAny<MessagePackSerializationException>(() => MessagePackSerializer.Deserialize<ReserveRequest>(Build((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(3); w.Write("r"); w.Write("p"); w.WriteArrayHeader(int.MaxValue);
        }), Reflection));
        Assert.ThrowsAny<MessagePackSerializationException>(() => MessagePackSerializer.Deserialize<KvLayout>(Build((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(6); w.Write(-1); w.Write(1); w.Write(1); w.Write(1); w.Write(0); w.Write(1);
        }), Reflection));
        // nesting beyond the configured depth
        Assert.ThrowsAny<MessagePackSerializationException>(() => MessagePackSerializer.Deserialize<EngineFrame>(Build((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(3); w.Write(1); w.Write(1L); w.WriteArrayHeader(2); w.Write(11);
            w.WriteArrayHeader(7); for (var i = 0; i < 6; i++) w.WriteNil();
            for (var i = 0; i < 40; i++) w.WriteArrayHeader(1);
            w.WriteNil();
        }), Reflection));
    }

    private static bool ReflectionShapesProbe(Type type)
    {
        var formatter = typeof(ReflectionFormatterResolver).GetMethod(nameof(ReflectionFormatterResolver.GetFormatter))!.MakeGenericMethod(type)
            .Invoke(ReflectionFormatterResolver.Instance, null);
        return formatter is not null;
    }

    private static byte[] Build(MessagePackWriterAction write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        write(ref writer);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    private delegate void MessagePackWriterAction(ref MessagePackWriter writer);

    /// <summary>MessagePack for one instance of <paramref name="type"/> with every key set to a non-default value.</summary>
    private static byte[] Sample(Type type) => Build((ref MessagePackWriter w) => WriteSample(ref w, type, 0));

    private static void WriteSample(ref MessagePackWriter w, Type type, int depth, int number = 7)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(string)) w.Write("s" + depth);
        else if (type == typeof(byte[])) w.Write(new byte[] { 1, 2, 3 });
        else if (type == typeof(bool)) w.Write(true);
        else if (type == typeof(double)) w.Write(1.5);
        else if (type.IsPrimitive) w.Write(number);
        else if (type.IsEnum) w.Write(Convert.ToInt64(Enum.GetValues(type).GetValue(Enum.GetValues(type).Length - 1)));
        else if (type.IsArray || (type.IsGenericType && type.IsInterface && type.GetGenericArguments().Length == 1))
        {
            var element = type.IsArray ? type.GetElementType()! : type.GetGenericArguments()[0];
            w.WriteArrayHeader(2);
            WriteSample(ref w, element, depth + 1);
            WriteSample(ref w, element, depth + 1);
        }
        else if (type.IsGenericType && type.GetGenericArguments().Length == 2)
        {
            w.WriteMapHeader(1);
            w.Write("k");
            WriteSample(ref w, type.GetGenericArguments()[1], depth + 1);
        }
        else if (type.IsInterface)
        {
            var union = type.GetCustomAttributes<UnionAttribute>().First(u => u.SubType == typeof(WriteRequest) || u.Key == 0);
            w.WriteArrayHeader(2);
            w.Write(union.Key);
            WriteSample(ref w, union.SubType, depth + 1);
        }
        else
        {
            var members = type.GetProperties(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
                .Select(p => (Key: p.GetCustomAttribute<KeyAttribute>()?.IntKey, Type: p.PropertyType))
                .Where(m => m.Key is not null).ToDictionary(m => m.Key!.Value, m => m.Type);
            var count = members.Keys.Max() + 1;
            w.WriteArrayHeader(count);
            for (var key = 0; key < count; key++)
            {
                // a number per key, increasing: fields checked against each other (a TP rank below its degree) hold
                if (members.TryGetValue(key, out var memberType)) WriteSample(ref w, memberType, depth + 1, 7 + key);
                else w.WriteNil();
            }
        }
    }
}
