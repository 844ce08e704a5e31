using System.IO.MemoryMappedFiles;
using Microsoft.Win32.SafeHandles;

namespace PdRdma.Transport.Backends.SharedMemory.Internal;

/// <summary>
/// A connection's channel file mapped into this process: the control page and the rings read-write, the grant table
/// read-write on the target (it publishes) and read-only on the initiator (PROT_READ: a bug or a hostile library in
/// the initiator cannot forge a grant through this mapping). Owns the file handle and both views.
/// </summary>
internal sealed unsafe class ChannelMapping : IDisposable
{
    private readonly SafeFileHandle _handle;
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _control;
    private readonly MemoryMappedViewAccessor _grants;
    private readonly string? _deletePath;
    private byte* _base;
    private byte* _grantBase;
    private int _disposed;

    private ChannelMapping(SafeFileHandle handle, long controlBytes, long grantsAt, long grantBytes, bool grantsWritable, string? deletePath)
    {
        _handle = handle;
        _deletePath = deletePath;
        _file = MemoryMappedFile.CreateFromFile(handle, null, 0, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: true);
        _control = _file.CreateViewAccessor(0, controlBytes, MemoryMappedFileAccess.ReadWrite);
        _grants = _file.CreateViewAccessor(grantsAt, grantBytes, grantsWritable ? MemoryMappedFileAccess.ReadWrite : MemoryMappedFileAccess.Read);
        _control.SafeMemoryMappedViewHandle.AcquirePointer(ref _base);
        _base += _control.PointerOffset;
        _grants.SafeMemoryMappedViewHandle.AcquirePointer(ref _grantBase);
        _grantBase += _grants.PointerOffset;
        ControlBytes = controlBytes;
        GrantBytes = grantBytes;
    }

    public long ControlBytes { get; }

    public long GrantBytes { get; }

    /// <summary>The control page and the rings; valid until dispose.</summary>
    public byte* Base => _base;

    /// <summary>The grant table; read-only on the initiator.</summary>
    public byte* Grants => _grantBase;

    /// <summary>Target: a new channel file (O_EXCL, mode 0600, a random name in the shared-memory folder), zero-filled.</summary>
    public static ChannelMapping Create(int ringBytes, int errorSlots, int grantSlots, out string path)
    {
        var directory = HostRegion.DefaultDirectory;
        path = Path.Combine(directory, $"pdrdma.{Environment.ProcessId}.shm-channel.{System.Security.Cryptography.RandomNumberGenerator.GetHexString(16, lowercase: true)}");
        var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        try
        {
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(handle, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            var grantsAt = ChannelLayout.GrantsAt(ringBytes, errorSlots);
            var bytes = ChannelLayout.FileBytes(ringBytes, errorSlots, grantSlots);
            RandomAccess.SetLength(handle, bytes);
            return new ChannelMapping(handle, grantsAt, grantsAt, bytes - grantsAt, grantsWritable: true, deletePath: path);
        }
        catch
        {
            handle.Dispose();
            File.Delete(path);
            throw;
        }
    }

    /// <summary>Initiator: maps a channel file the target made (the path already passed <see cref="SharedPathPolicy"/>).</summary>
    public static ChannelMapping Open(string path, int ringBytes, int errorSlots, int grantSlots)
    {
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        try
        {
            var grantsAt = ChannelLayout.GrantsAt(ringBytes, errorSlots);
            var bytes = ChannelLayout.FileBytes(ringBytes, errorSlots, grantSlots);
            if (RandomAccess.GetLength(handle) < bytes)
            {
                throw new TransferException(TransferErrorCode.Protocol, $"shm channel file {path} holds {RandomAccess.GetLength(handle)} bytes, {bytes} expected");
            }
            return new ChannelMapping(handle, grantsAt, grantsAt, bytes - grantsAt, grantsWritable: false, deletePath: null);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Keeps both views mapped until <see cref="Exit"/>, even if the mapping is disposed meanwhile (a thread still reading
    /// the ring when the connection closes must not touch unmapped memory). False once disposed.
    /// </summary>
    public bool Enter()
    {
        var control = false;
        var grants = false;
        try
        {
            _control.SafeMemoryMappedViewHandle.DangerousAddRef(ref control);
            _grants.SafeMemoryMappedViewHandle.DangerousAddRef(ref grants);
            return true;
        }
        catch (ObjectDisposedException)
        {
            if (control) _control.SafeMemoryMappedViewHandle.DangerousRelease();
            return false;
        }
    }

    public void Exit()
    {
        _grants.SafeMemoryMappedViewHandle.DangerousRelease();
        _control.SafeMemoryMappedViewHandle.DangerousRelease();
    }

    /// <summary>Target: removes the file's name once the initiator mapped it; nobody can open the channel afterwards.</summary>
    public void Unlink()
    {
        if (_deletePath is not null) File.Delete(_deletePath);
    }

    public void Dispose()
    {
        // The pointers stay as they are: a thread that entered keeps the views mapped until it exits.
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _control.SafeMemoryMappedViewHandle.ReleasePointer();
        _grants.SafeMemoryMappedViewHandle.ReleasePointer();
        _control.Dispose();
        _grants.Dispose();
        _file.Dispose();
        _handle.Dispose();
        if (_deletePath is not null) File.Delete(_deletePath);
    }
}
