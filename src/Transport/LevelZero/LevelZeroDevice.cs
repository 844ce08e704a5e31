using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PdRdma.Interop.LevelZero;
using PdRdma.Interop.LevelZero.Handles;
using PdRdma.Interop.LevelZero.Native;
using PdRdma.Transport.LevelZero.Internal;

namespace PdRdma.Transport.LevelZero;

/// <summary>
/// One Level Zero device (an Intel XPU) with a context and one synchronous immediate command list for copies.
/// Copies are serialised on the list; every other member is thread-safe. Regions hold the context, so disposing
/// the device while regions live only drops this object's reference.
/// </summary>
public sealed class LevelZeroDevice : IDisposable
{
    private static readonly Lock InitGate = new();
    private static ze_result_t? s_initResult;
    private readonly ZeCommandListHandle _copyList;
    private readonly Lock _copyGate = new();

    private LevelZeroDevice(int ordinal, string name, byte[] uuid, nint device, ZeContextHandle context, ZeCommandListHandle copyList)
    {
        Ordinal = ordinal;
        Name = name;
        Uuid = uuid;
        DeviceHandle = device;
        Context = context;
        _copyList = copyList;
    }

    public int Ordinal { get; }

    public string Name { get; }

    /// <summary>The device's 16-byte UUID: two processes share device memory by IPC only when theirs match.</summary>
    public IReadOnlyList<byte> Uuid { get; }

    internal nint DeviceHandle { get; }

    internal ZeContextHandle Context { get; }

    /// <summary>True when the Level Zero loader (libze_loader.so.1) loads in this process.</summary>
    public static bool LoaderPresent => NativeLibrary.TryLoad(Ze.Library, out _);

    /// <summary>
    /// Makes the loader load <paramref name="driverLibrary"/> instead of the installed drivers (its ZE_ENABLE_ALT_DRIVERS).
    /// Only before the first <see cref="Open"/> in this process: the loader reads it once.
    /// </summary>
    public static void UseDriver(string driverLibrary)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(driverLibrary);
        lock (InitGate)
        {
            if (s_initResult is not null) throw new InvalidOperationException("Level Zero is already initialised in this process; choose the driver before the first Open");
            if (!File.Exists(driverLibrary)) throw new FileNotFoundException($"Level Zero driver {driverLibrary} does not exist", driverLibrary);
            Interop.Libc.NativeEnvironment.Set(Ze.AltDriversVariable, Path.GetFullPath(driverLibrary));
        }
    }

    /// <summary>Opens device <paramref name="ordinal"/> of the first driver; DeviceUnavailable names what to install.</summary>
    public static unsafe LevelZeroDevice Open(int ordinal = 0, ILogger? logger = null)
    {
        if (!LoaderPresent)
        {
            throw new TransferException(TransferErrorCode.DeviceUnavailable, $"{Ze.Library} not found: {LevelZeroErrors.InstallLoader}, and {LevelZeroErrors.InstallDriver}");
        }
        lock (InitGate)
        {
            s_initResult ??= Ze.Init(0);
        }
        const string host = "this host";
        if (s_initResult != ze_result_t.ZE_RESULT_SUCCESS) throw LevelZeroErrors.Error(s_initResult.Value, "zeInit", host);
        uint drivers = 0;
        LevelZeroErrors.Check(Ze.DriverGet(ref drivers, null), "zeDriverGet", host);
        if (drivers == 0) throw new TransferException(TransferErrorCode.DeviceUnavailable, $"no Level Zero driver found: {LevelZeroErrors.InstallDriver}");
        var driverHandles = new nint[drivers];
        fixed (nint* p = driverHandles) LevelZeroErrors.Check(Ze.DriverGet(ref drivers, p), "zeDriverGet", host);
        var driver = driverHandles[0];

        uint count = 0;
        LevelZeroErrors.Check(Ze.DeviceGet(driver, ref count, null), "zeDeviceGet", host);
        if (ordinal < 0 || ordinal >= count)
        {
            throw new TransferException(TransferErrorCode.DeviceUnavailable, $"xpu:{ordinal} does not exist: the Level Zero driver has {count} device(s)");
        }
        var devices = new nint[count];
        fixed (nint* p = devices) LevelZeroErrors.Check(Ze.DeviceGet(driver, ref count, p), "zeDeviceGet", host);
        var device = devices[ordinal];
        var properties = new ze_device_properties_t { stype = ze_structure_type_t.ZE_STRUCTURE_TYPE_DEVICE_PROPERTIES };
        LevelZeroErrors.Check(Ze.DeviceGetProperties(device, ref properties), "zeDeviceGetProperties", $"xpu:{ordinal}");
        var name = Marshal.PtrToStringUTF8((nint)properties.name) ?? "unknown";
        var uuid = new ReadOnlySpan<byte>(properties.uuid, 16).ToArray();
        var label = $"xpu:{ordinal} ({name})";

        LevelZeroErrors.Check(Ze.ContextCreate(driver, out var context), "zeContextCreate", label);
        try
        {
            LevelZeroErrors.Check(Ze.CommandListCreateImmediate(context, device, out var list), "zeCommandListCreateImmediate", label);
            var opened = new LevelZeroDevice(ordinal, name, uuid, device, context, list);
            LevelZeroLog.Opened(logger ?? NullLogger.Instance, opened.ToString(), Convert.ToHexString(uuid));
            return opened;
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>Copies <paramref name="length"/> bytes; complete when this returns (the list is synchronous).</summary>
    internal void Copy(nint destination, nint source, long length)
    {
        if (length == 0) return;
        lock (_copyGate)
        {
            LevelZeroErrors.Check(Ze.CommandListAppendMemoryCopy(_copyList, destination, source, (nuint)length), "zeCommandListAppendMemoryCopy", ToString());
            LevelZeroErrors.Check(Ze.CommandListHostSynchronize(_copyList, ulong.MaxValue), "zeCommandListHostSynchronize", ToString());
        }
    }

    internal void Fill(nint destination, byte value, long length)
    {
        lock (_copyGate)
        {
            LevelZeroErrors.Check(Ze.CommandListAppendMemoryFill(_copyList, destination, value, (nuint)length), "zeCommandListAppendMemoryFill", ToString());
            LevelZeroErrors.Check(Ze.CommandListHostSynchronize(_copyList, ulong.MaxValue), "zeCommandListHostSynchronize", ToString());
        }
    }

    public void Dispose()
    {
        _copyList.Dispose();
        Context.Dispose();
    }

    public override string ToString() => $"xpu:{Ordinal} ({Name})";
}
