using System.Buffers;

namespace PdRdma.Transport.Internal;

/// <summary>Spans and Memory over a registered region's mapping (the region owns it and outlives every use).</summary>
internal static unsafe class RegionMemory
{
    public static Span<byte> Span(IMemoryRegion region, long offset, int length)
    {
        if (offset < 0 || length < 0 || offset > region.Length - length)
        {
            throw new TransferException(TransferErrorCode.OutOfBounds, $"[{offset}, {offset + length}) is outside region '{region.Id}' of {region.Length} bytes");
        }
        return new Span<byte>((byte*)region.Address + offset, length);
    }

    public static Memory<byte> Memory(IMemoryRegion region, long offset, int length)
    {
        _ = Span(region, offset, length);
        return new UnmanagedMemory((byte*)region.Address + offset, length).Memory;
    }

    public static void Copy(IMemoryRegion source, long sourceOffset, IMemoryRegion target, long targetOffset, long length)
    {
        const int Step = 1 << 30;
        for (long done = 0; done < length; done += Step)
        {
            var n = (int)Math.Min(Step, length - done);
            Span(source, sourceOffset + done, n).CopyTo(Span(target, targetOffset + done, n));
        }
    }

    private sealed class UnmanagedMemory(byte* pointer, int length) : MemoryManager<byte>
    {
        public override Span<byte> GetSpan() => new(pointer, length);

        public override MemoryHandle Pin(int elementIndex = 0) => new(pointer + elementIndex);

        public override void Unpin() { }

        protected override void Dispose(bool disposing) { }
    }
}
