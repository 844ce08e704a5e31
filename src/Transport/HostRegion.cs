using System.IO.MemoryMappedFiles;

namespace PdRdma.Transport;

/// <summary>
/// Host memory backed by a file (under /dev/shm by default) mapped MAP_SHARED, so an engine's tensor,
/// the daemon and a same-host peer all see the same pages. Reads and writes through <see cref="AsSpan"/>
/// are not synchronised: the owner of the region decides who writes when.
/// </summary>
public sealed unsafe class HostRegion : IMemoryRegion
{
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
        // Created with O_CREAT|O_EXCL (FileMode.CreateNew): a planted file or symlink at the name is an error, never
        // followed or reused; mode 0600, so no other user reads the KV or writes into it.
        var options = new FileStreamOptions
        {
            Mode = create ? FileMode.CreateNew : FileMode.Open,
            Access = FileAccess.ReadWrite,
            Share = FileShare.ReadWrite | FileShare.Delete,
        };
        if (create && !OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(path, options))
        {
            if (create) stream.SetLength(length);
            else if (stream.Length < length)
            {
                throw new TransferException(TransferErrorCode.OutOfBounds, $"region file {path} holds {stream.Length} bytes, {length} expected");
            }
            _file = MemoryMappedFile.CreateFromFile(stream, null, length, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: false);
        }
        _view = _file.CreateViewAccessor(0, length, MemoryMappedFileAccess.ReadWrite);
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref _pointer);
        _pointer += _view.PointerOffset;
    }

    public string Id { get; }

    public MemoryKind Kind => MemoryKind.Host;

    public long Length { get; }

    public nint Address => (nint)_pointer;

    public string? SharedPath { get; }

    /// <summary>Default folder for region files: /dev/shm where it exists, else the temp folder.</summary>
    public static string DefaultDirectory => Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();

    /// <summary>
    /// Creates a new zero-filled region file and maps it: a fresh unpredictable name (pdrdma.PID.ID.RANDOM), created
    /// exclusively (an existing file or symlink there is an error, never followed), mode 0600. Removed on dispose.
    /// </summary>
    public static HostRegion Create(string id, long length, string? directory = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        var safeName = string.Concat(id.Take(64).Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_'));
        var random = System.Security.Cryptography.RandomNumberGenerator.GetHexString(16, lowercase: true);
        var path = Path.Combine(directory ?? DefaultDirectory, $"pdrdma.{Environment.ProcessId}.{safeName}.{random}");
        return new HostRegion(id, path, length, create: true, deleteOnDispose: true);
    }

    /// <summary>Tests only: creates the region file at exactly <paramref name="path"/> (exclusively, 0600).</summary>
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
        if (_deleteOnDispose && SharedPath is not null)
        {
            try { File.Delete(SharedPath); } catch (IOException) { }
        }
    }
}
