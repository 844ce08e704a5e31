namespace PdRdma.Transport.Internal.Wire;

/// <summary>One decoded frame: its type and its MessagePack body (owned by the frame).</summary>
internal readonly record struct Frame(MessageType Type, ReadOnlyMemory<byte> Body)
{
    public T Read<T>() => WireFormat.Deserialize<T>(Type, Body);
}
