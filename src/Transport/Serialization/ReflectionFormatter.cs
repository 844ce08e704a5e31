using MessagePack;
using MessagePack.Formatters;

namespace PdRdma.Transport.Serialization;

/// <summary>The typed face of <see cref="ReflectionShapes"/> that MessagePack asks for.</summary>
internal sealed class ReflectionFormatter<T> : IMessagePackFormatter<T>
{
    public void Serialize(ref MessagePackWriter writer, T value, MessagePackSerializerOptions options) =>
        ReflectionShapes.Write(ref writer, typeof(T), value, options);

    public T Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options) =>
        (T)ReflectionShapes.Read(ref reader, typeof(T), options)!;
}
