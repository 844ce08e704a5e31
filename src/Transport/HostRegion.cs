using System.IO.MemoryMappedFiles;
using Microsoft.Win32.SafeHandles;

namespace PdRdma.Transport;

/// <summary>
/// Host memory backed by a file (under /dev/shm by default) mapped MAP_SHARED, so an engine's tensor,
/// the daemon and a same-host peer all see the same pages. Reads and writes through <see cref="AsSpan"/>
/// are not synchronised: the owner of the region decides who writes when.
/// </summary>
public sealed unsafe class HostRegion : IMemoryRegion
{
    private readonly SafeFileHandle _handle;
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly bool _deleteOnDispose;
    private byte* _pointer;

    private HostRegion(string id, string path, long length, bool create, bool deleteOnDispose)
    {
        Id = id;
        SharedPath = path;
        Length = length;
        _deleteOnDispose = deleteOnDispose;
        // CreateNew is O_CREAT|O_EXCL: a planted file or symlink under the name is refused, never followed or reused;
        // the file is created 0600 (only this user reads the KV).
        _handle = create
            ? File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, FileOptions.None, preallocationSize: 0)
            : File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        try
        {
            if (create)
            {
                if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(_handle, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                RandomAccess.SetLength(_handle, length);
            }
            else if (RandomAccess.GetLength(_handle) < length)
            {
                throw new TransferException(TransferErrorCode.OutOfBounds, $"region file {path} holds {RandomAccess.GetLength(_handle)} bytes, {length} expected");
            }
            _file = MemoryMappedFile.CreateFromFile(_handle, null, length, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: true);
        }
        catch
        {
            _handle.Dispose();
            throw;
        }
        _view = _file.CreateViewAccessor(0, length, MemoryMappedFileAccess.ReadWrite);
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref _pointer);
        _pointer += _view.PointerOffset;
    }

    private HostRegion(string id, SafeFileHandle handle, long length)
    {
        Id = id;
        Length = length;
        _handle = handle;
        // Same-host peers reach the same pages through this process's descriptor: the shm backend opens /proc/PID/fd/N
        // only when PID runs as its own user and the descriptor is a memfd or a file in /dev/shm (SharedPathPolicy).
        SharedPath = OperatingSystem.IsLinux() ? $"/proc/{Environment.ProcessId}/fd/{handle.DangerousGetHandle()}" : null;
        _file = MemoryMappedFile.CreateFromFile(handle, null, length, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: true);
        _view = _file.CreateViewAccessor(0, length, MemoryMappedFileAccess.ReadWrite);
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref _pointer);
        _pointer += _view.PointerOffset;
    }

    public string Id { get; }

    public MemoryKind Kind => MemoryKind.Host;

    public long Length { get; }

    internal nint Address => (nint)_pointer;

    nint IMemoryRegion.Address => Address;

    public string? SharedPath { get; }

    /// <summary>The open file behind the region, borrowed (valid until dispose): what an engine hands its node daemon (SCM_RIGHTS).</summary>
    public SafeFileHandle FileHandle => _handle;

    /// <summary>Default folder for region files: /dev/shm where it exists, else the temp folder.</summary>
    public static string DefaultDirectory => Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();

    /// <summary>Creates a new zero-filled region file (mode 0600, a random name; never an existing file or a symlink) and maps it. The file is removed on dispose.</summary>
    public static HostRegion Create(string id, long length, string? directory = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        var safeName = string.Concat(id.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));
        // A random part: another user cannot guess the name to plant a file or symlink ahead of it (and CreateNew refuses one anyway).
        var path = Path.Combine(directory ?? DefaultDirectory, $"pdrdma.{Environment.ProcessId}.{safeName}.{System.Security.Cryptography.RandomNumberGenerator.GetHexString(16, lowercase: true)}");
        return new HostRegion(id, path, length, create: true, deleteOnDispose: true);
    }

    /// <summary>This region seen through the device-memory calls (staging tests on hosts without a device); it does not own the region.</summary>
    public IDeviceMemory AsDeviceMemory() => new HostRegionAsDevice(this);

    /// <summary>Creates a region file at exactly <paramref name="path"/> (O_EXCL, mode 0600; an existing file or symlink there is an error). Tests use it to plant files.</summary>
    internal static HostRegion CreateAt(string id, string path, long length) => new(id, path, length, create: true, deleteOnDispose: true);

    /// <summary>Maps an existing region file created by another process; the file is left in place on dispose.</summary>
    public static HostRegion Open(string id, string path, long length)
    {
        if (!File.Exists(path))
        {
            throw new TransferException(TransferErrorCode.UnknownRegion, $"region file {path} does not exist (is the peer on this host?)");
        }
        return new HostRegion(id, path, length, create: false, deleteOnDispose: false);
    }

    /// <summary>
    /// Maps a file another process handed over by descriptor (memfd or a file it created), taking ownership of
    /// <paramref name="handle"/>; nothing is opened by path. The file must be a regular file of at least
    /// <paramref name="length"/> bytes: devices, pipes and sockets (size 0) are refused with OutOfBounds.
    /// </summary>
    public static HostRegion FromHandle(string id, SafeFileHandle handle, long length)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        ArgumentNullException.ThrowIfNull(handle);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        long size;
        try
        {
            size = RandomAccess.GetLength(handle);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new TransferException(TransferErrorCode.OutOfBounds, $"the descriptor of region '{id}' is not a mappable file: {e.Message}", e);
        }
        if (size < length)
            throw new TransferException(TransferErrorCode.OutOfBounds, $"the file of region '{id}' holds {size} bytes, {length} expected (only regular files of the pool's size are mapped)");
        try
        {
            return new HostRegion(id, handle, length);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new TransferException(TransferErrorCode.OutOfBounds, $"the descriptor of region '{id}' cannot be mapped read-write: {e.Message}", e);
        }
    }

    /// <summary>A view of [offset, offset+length); valid until dispose.</summary>
    public Span<byte> AsSpan(long offset, int length)
    {
        if (offset < 0 || length < 0 || offset + length > Length)
        {
            throw new TransferException(TransferErrorCode.OutOfBounds, $"[{offset}, {offset + length}) is outside region '{Id}' of {Length} bytes");
        }
        return new Span<byte>(_pointer + offset, length);
    }

    public void Dispose()
    {
        if (_pointer == null) return;
        _pointer = null;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
        _handle.Dispose();
        if (_deleteOnDispose && SharedPath is not null)
        {
            try { File.Delete(SharedPath); } catch (IOException) { }
        }
    }
}
