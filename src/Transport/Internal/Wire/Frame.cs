namespace PdRdma.Transport.Internal.Wire;

/// <summary>One decoded frame: its type and its MessagePack body (owned by the frame).</summary>
internal readonly record struct Frame(MessageType Type, ReadOnlyMemory<byte> Body)
{
    /// <summary>Decodes the body; messages that validate themselves are checked before they are returned.</summary>
    public T Read<T>()
    {
        var message = WireFormat.Deserialize<T>(Type, Body);
        if (message is IWireMessage validated) validated.Validate();
        return message;
    }
}
