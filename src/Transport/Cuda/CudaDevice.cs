using System.Runtime.InteropServices;
using System.Text;
using PdRdma.Interop.Cuda;

namespace PdRdma.Transport.Cuda;

/// <summary>
/// One CUDA device with its retained primary context. Every operation makes the context current on the
/// calling thread first, because async continuations move between threads. Thread-safe.
/// </summary>
public sealed class CudaDevice : IDisposable
{
    private readonly CudaPrimaryContextHandle _context;

    private CudaDevice(int ordinal, string name, CudaPrimaryContextHandle context)
    {
        Ordinal = ordinal;
        Name = name;
        _context = context;
    }

    public int Ordinal { get; }

    public string Name { get; }

    /// <summary>True when libcuda.so.1 loads in this process (an NVIDIA driver is installed).</summary>
    public static bool DriverPresent => NativeLibrary.TryLoad(CudaDriver.Library, out _);

    /// <summary>Opens device <paramref name="ordinal"/>; DeviceUnavailable names what is missing.</summary>
    public static unsafe CudaDevice Open(int ordinal = 0)
    {
        if (!DriverPresent)
        {
            throw new TransferException(TransferErrorCode.DeviceUnavailable,
                $"{CudaDriver.Library} not found: install the NVIDIA driver (and the container toolkit inside containers) to use CUDA regions");
        }
        Check(CudaDriver.Init(0), "cuInit");
        Check(CudaDriver.DeviceGetCount(out var count), "cuDeviceGetCount");
        if (ordinal < 0 || ordinal >= count)
        {
            throw new TransferException(TransferErrorCode.DeviceUnavailable, $"cuda:{ordinal} does not exist: this host has {count} CUDA device(s)");
        }
        Check(CudaDriver.DeviceGet(out var device, ordinal), "cuDeviceGet");
        var nameBytes = stackalloc byte[256];
        Check(CudaDriver.DeviceGetName(nameBytes, 256, device), "cuDeviceGetName");
        var name = Marshal.PtrToStringUTF8((nint)nameBytes) ?? "unknown";
        Check(CudaDriver.DevicePrimaryCtxRetain(out var context, device), "cuDevicePrimaryCtxRetain");
        var handle = new CudaPrimaryContextHandle(context, device);
        Check(CudaDriver.CtxSetCurrent(context), "cuCtxSetCurrent");
        return new CudaDevice(ordinal, name, handle);
    }

    /// <summary>Makes this device's context current on the calling thread.</summary>
    public void MakeCurrent()
    {
        var added = false;
        _context.DangerousAddRef(ref added);
        try
        {
            Check(CudaDriver.CtxSetCurrent(_context.DangerousGetHandle()), "cuCtxSetCurrent");
        }
        finally
        {
            if (added) _context.DangerousRelease();
        }
    }

    /// <summary>Throws a typed error naming the CUDA call and its CUresult name.</summary>
    public static unsafe void Check(CudaResult result, string call)
    {
        if (result == CudaResult.Success) return;
        var name = CudaDriver.GetErrorName(result, out var text) == CudaResult.Success && text != null
            ? Marshal.PtrToStringUTF8((nint)text)
            : ((int)result).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var code = result switch
        {
            CudaResult.OutOfMemory => TransferErrorCode.PoolFull,
            CudaResult.NoDevice or CudaResult.InvalidDevice or CudaResult.NotInitialized => TransferErrorCode.DeviceUnavailable,
            CudaResult.NotSupported => TransferErrorCode.Unsupported,
            _ => TransferErrorCode.DeviceUnavailable,
        };
        throw new TransferException(code, $"{call} failed: {name}");
    }

    public void Dispose() => _context.Dispose();

    public override string ToString() => new StringBuilder().Append("cuda:").Append(Ordinal).Append(" (").Append(Name).Append(')').ToString();
}
