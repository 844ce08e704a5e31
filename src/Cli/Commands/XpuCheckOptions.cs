using System.Globalization;
using PdRdma.Transport;
using PdRdma.Transport.LevelZero;

namespace PdRdma.Cli.Commands;

/// <summary>Options shared by the Level Zero check commands: size, an alternative driver, the share paths to offer.</summary>
public sealed record XpuCheckOptions(long Bytes, string? Driver, IReadOnlyList<XpuSharePath> Paths, string? Socket)
{
    public const string Usage = "[MiB] [--driver LIB.so] [--paths ipc,dmabuf,staged] (the driver replaces the installed ones: the test driver)";

    public static XpuCheckOptions Parse(string[] args)
    {
        long mib = 64;
        string? driver = null, socket = null;
        IReadOnlyList<XpuSharePath> paths = XpuSharing.AllPaths;
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--driver": driver = Next(); break;
                case "--socket": socket = Next(); break;
                case "--paths": paths = [.. Next().Split(',').Select(ParsePath)]; break;
                case "--json": break;
                default:
                    if (!long.TryParse(args[i], NumberStyles.None, CultureInfo.InvariantCulture, out mib) || mib is <= 0 or > 16384)
                    {
                        throw new ArgumentException($"unknown argument '{args[i]}' (usage: {Usage})");
                    }
                    break;
            }
        }
        return new XpuCheckOptions(mib * 1024 * 1024, driver, paths, socket);
    }

    /// <summary>Points the loader at --driver (before the first device is opened) and opens xpu:0.</summary>
    public LevelZeroDevice OpenDevice()
    {
        if (Driver is not null) LevelZeroDevice.UseDriver(Driver);
        return LevelZeroDevice.Open(0);
    }

    public static XpuSharePath ParsePath(string text) => text.Trim() switch
    {
        "ipc" => XpuSharePath.SameDeviceIpc,
        "dmabuf" => XpuSharePath.DmaBuf,
        "staged" => XpuSharePath.HostStaged,
        _ => throw new ArgumentException($"unknown share path '{text}' (ipc, dmabuf, staged)"),
    };

    public static string Name(XpuSharePath path) => path switch
    {
        XpuSharePath.SameDeviceIpc => "ipc",
        XpuSharePath.DmaBuf => "dmabuf",
        _ => "staged",
    };

    /// <summary>Deterministic bytes both processes can rebuild.</summary>
    public static byte[] Pattern(long bytes, int seed)
    {
        var data = GC.AllocateUninitializedArray<byte>(checked((int)bytes));
        new Random(seed).NextBytes(data);
        return data;
    }

    /// <summary>The error as one JSON-friendly object, for commands that must print JSON even when no device opens.</summary>
    public static Dictionary<string, object?> Failure(TransferException e) => new() { ["error"] = e.Message, ["code"] = e.Code.ToString() };
}
