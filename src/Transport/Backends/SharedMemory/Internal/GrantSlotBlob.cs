using System.Buffers.Binary;

namespace PdRdma.Transport.Backends.SharedMemory.Internal;

/// <summary>What a published grant's window carries for shm: its slot in the channel's grant table and the slot's generation (12 bytes).</summary>
internal static class GrantSlotBlob
{
    public const int Bytes = 12;

    public static byte[] Write(int slot, long generation)
    {
        var blob = new byte[Bytes];
        BinaryPrimitives.WriteInt32LittleEndian(blob, slot);
        BinaryPrimitives.WriteInt64LittleEndian(blob.AsSpan(4), generation);
        return blob;
    }

    /// <summary>The slot and generation, or null for a blob of another size (the grant then has no table entry).</summary>
    public static (int Slot, long Generation)? Read(byte[]? blob) =>
        blob is { Length: Bytes } ? (BinaryPrimitives.ReadInt32LittleEndian(blob), BinaryPrimitives.ReadInt64LittleEndian(blob.AsSpan(4))) : null;
}
