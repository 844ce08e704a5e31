using System.Runtime.InteropServices;
using PdRdma.Interop.Verbs;
using PdRdma.Interop.Verbs.Handles;
using PdRdma.Interop.Verbs.Native;

namespace PdRdma.Transport.Backends.Verbs.Internal;

/// <summary>Page-aligned native memory registered with the device: notification send slots and receive slots.</summary>
internal sealed unsafe class RegisteredBuffer : IDisposable
{
    private readonly IbvMrHandle _mr;
    private void* _memory;

    public RegisteredBuffer(IbvPdHandle pd, int slots, int slotBytes, ibv_access_flags access, string what, string device)
    {
        SlotBytes = slotBytes;
        Length = (long)slots * slotBytes;
        _memory = NativeMemory.AlignedAlloc((nuint)Length, 4096);
        NativeMemory.Clear(_memory, (nuint)Length);
        _mr = Ibv.RegMr(pd, (nint)_memory, (nuint)Length, access);
        if (_mr.IsInvalid)
        {
            int errno = Marshal.GetLastPInvokeError();
            NativeMemory.AlignedFree(_memory);
            _memory = null;
            throw VerbsErrors.RegistrationFailed(what, Length, device, errno);
        }
    }

    public int SlotBytes { get; }

    public long Length { get; }

    public uint LocalKey => _mr.LocalKey;

    public ulong SlotAddress(int slot) => (ulong)_memory + (ulong)slot * (ulong)SlotBytes;

    public Span<byte> Slot(int slot) => new((byte*)_memory + (long)slot * SlotBytes, SlotBytes);

    public void Dispose()
    {
        _mr.Dispose();
        if (_memory != null && _mr.IsClosed)
        {
            NativeMemory.AlignedFree(_memory);
            _memory = null;
        }
    }
}
