using System.Runtime.InteropServices;
using PdRdma.Transport;
using TorchSharp;

namespace PdRdma.Engines;

/// <summary>
/// Which libtorch this process runs and whether a device is usable. Two cases: the regular build carries
/// TorchSharp-cpu's libtorch beside the assembly (CPU only; the only TorchSharp served to this project), and the GPU
/// engine bundle (<c>scripts/gpu-bundle.sh --engine</c>) carries LibTorchSharp without libtorch and takes the host's
/// PyTorch libtorch (with its CUDA kernels) from <see cref="LibTorchDirVariable"/>. Thread-safe.
/// </summary>
public static class TorchRuntime
{
    /// <summary>Folder of the host's libtorch (PyTorch's <c>torch/lib</c>), used only when no libtorch ships beside the assembly.</summary>
    public const string LibTorchDirVariable = "PDRDMA_LIBTORCH_DIR";

    /// <summary>Load order: dependencies before dependants, so each resolves against the ones already loaded.</summary>
    internal static readonly string[] HostLibraries = ["libc10.so", "libtorch_cpu.so", "libc10_cuda.so", "libtorch_cuda.so", "libtorch.so"];

    private static readonly object Gate = new();
    private static string? _preloaded;

    /// <summary>
    /// True when this application carries a libtorch of its own (the TorchSharp-cpu package: beside the assembly once
    /// published, in the NuGet cache folders the runtime probes in a build tree).
    /// </summary>
    public static bool PackagedLibTorch => NativeSearchDirectories().Any(d => File.Exists(Path.Combine(d, "libtorch_cpu.so")));

    private static IEnumerable<string> NativeSearchDirectories()
    {
        yield return AppContext.BaseDirectory;
        if (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") is string dirs)
        {
            foreach (var d in dirs.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)) yield return d;
        }
    }

    /// <summary>The folder the host libtorch was loaded from, or null.</summary>
    public static string? HostLibTorchDir
    {
        get { lock (Gate) return _preloaded; }
    }

    /// <summary>
    /// When no libtorch ships beside the assembly and <see cref="LibTorchDirVariable"/> names a folder, loads the
    /// host's libtorch from it before TorchSharp first touches native code (call first thing in Main). Returns the
    /// folder, or null when nothing was to be done. Throws TransferException(DeviceUnavailable) naming the library
    /// that did not load and why.
    /// </summary>
    public static string? PreloadHostLibTorch()
    {
        var dir = Environment.GetEnvironmentVariable(LibTorchDirVariable);
        if (string.IsNullOrEmpty(dir) || PackagedLibTorch) return null;
        lock (Gate)
        {
            if (_preloaded is not null) return _preloaded;
            if (!Directory.Exists(dir))
            {
                throw new TransferException(TransferErrorCode.DeviceUnavailable,
                    $"{LibTorchDirVariable}={dir} is not a folder: set it to the lib folder of the host's PyTorch (python3 -c 'import torch,os;print(os.path.dirname(torch.__file__))')/lib");
            }
            foreach (var name in HostLibraries)
            {
                var path = Path.Combine(dir, name);
                if (!File.Exists(path))
                {
                    if (name is "libc10_cuda.so" or "libtorch_cuda.so") continue; // a CPU-only PyTorch: CUDA is refused later, by name
                    throw new TransferException(TransferErrorCode.DeviceUnavailable, $"{path} is missing: {LibTorchDirVariable} must name PyTorch's torch/lib folder");
                }
                try
                {
                    NativeLibrary.Load(path);
                }
                catch (DllNotFoundException e)
                {
                    throw new TransferException(TransferErrorCode.DeviceUnavailable,
                        $"{path} did not load ({e.Message}); scripts/gpu-engine-check.sh --abi-only lists what LibTorchSharp needs from it", e);
                }
            }
            _preloaded = dir;
            return dir;
        }
    }

    /// <summary>
    /// Throws TransferException(DeviceUnavailable) when <paramref name="device"/> cannot run here, naming the fix.
    /// The CPU is always available.
    /// </summary>
    public static void EnsureAvailable(EngineDevice device)
    {
        if (!device.IsCuda) return;
        if (PackagedLibTorch)
        {
            throw new TransferException(TransferErrorCode.DeviceUnavailable,
                $"device '{device}': this build carries TorchSharp-cpu's libtorch, which has no CUDA kernels. Build the GPU engine bundle " +
                $"(scripts/gpu-bundle.sh --engine OUT) and run it on a host with PyTorch for CUDA, with {LibTorchDirVariable} set to PyTorch's torch/lib " +
                "(scripts/gpu-engine-check.sh does both)");
        }
        PreloadHostLibTorch();
        bool available;
        try
        {
            available = torch.TryInitializeDeviceType(DeviceType.CUDA) && torch.cuda.is_available();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or NotSupportedException or InvalidOperationException)
        {
            throw new TransferException(TransferErrorCode.DeviceUnavailable,
                $"device '{device}': libtorch's CUDA backend did not load ({e.Message}); {HostHint()}", e);
        }
        if (!available)
        {
            throw new TransferException(TransferErrorCode.DeviceUnavailable, $"device '{device}': CUDA is not available to libtorch; {HostHint()}");
        }
        int count = torch.cuda.device_count();
        if (device.Index >= count)
        {
            throw new TransferException(TransferErrorCode.DeviceUnavailable, $"device '{device}' does not exist: libtorch sees {count} CUDA device(s)");
        }
    }

    /// <summary>Waits for the work queued on <paramref name="device"/> (no-op on the CPU): what a host-side copy of device memory must see first.</summary>
    public static void Synchronize(EngineDevice device)
    {
        if (device.IsCuda) torch.cuda.synchronize(device.ToTorch());
    }

    private static string HostHint() => HostLibTorchDir is { } dir
        ? $"libtorch was taken from {dir} ({LibTorchDirVariable}); check that it is PyTorch built for CUDA and that the NVIDIA driver is loaded (nvidia-smi)"
        : $"set {LibTorchDirVariable} to the torch/lib folder of the host's PyTorch for CUDA";
}
