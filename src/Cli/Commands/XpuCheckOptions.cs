using System.CommandLine;
using PdRdma.Hosting.CommandLine;
using PdRdma.Transport;
using PdRdma.Transport.LevelZero;

namespace PdRdma.Cli.Commands;

/// <summary>Options shared by the Level Zero check commands: size, an alternative driver, the share paths to offer.</summary>
public sealed record XpuCheckOptions(long Bytes, string? Driver, IReadOnlyList<XpuSharePath> Paths, string? Socket)
{
    private static readonly Argument<long> MiB = CliOptions.IntArgument("MiB", "region size in MiB", 1, 16384, 64);

    private static readonly Option<string> DriverOption = CliOptions.Text("--driver", "a Level Zero driver library that replaces the installed ones (the test driver)", helpName: "LIB.so");

    private static readonly Option<XpuSharePath[]> PathsOption = new("--paths")
    {
        Description = "the share paths to offer, in order", HelpName = "ipc,dmabuf,staged", DefaultValueFactory = _ => [.. XpuSharing.AllPaths],
        CustomParser = r =>
        {
            var paths = new List<XpuSharePath>();
            foreach (var text in (r.Tokens.Count > 0 ? r.Tokens[0].Value : "").Split(','))
            {
                if (TryParsePath(text, out var path)) paths.Add(path);
                else r.AddError($"--paths: unknown share path '{text}' (ipc, dmabuf, staged)");
            }
            return [.. paths];
        },
    };

    private static readonly Option<string> SocketOption = CliOptions.Text("--socket", "the Unix socket the checking process listens on", helpName: "PATH");

    private static readonly Option<bool> JsonOption = CliOptions.Flag("--json", "JSON output (always; accepted for symmetry with the other checks)");

    /// <summary>Adds the shared options to <paramref name="command"/> (<c>--socket</c> only for the peer process).</summary>
    public static void AddTo(Command command, bool socket)
    {
        command.Arguments.Add(MiB);
        command.Options.Add(DriverOption);
        command.Options.Add(PathsOption);
        command.Options.Add(JsonOption);
        if (socket)
        {
            SocketOption.Required = true;
            command.Options.Add(SocketOption);
        }
    }

    /// <summary>The parsed options.</summary>
    public static XpuCheckOptions From(ParseResult parse) =>
        new(parse.GetValue(MiB) * 1024L * 1024, parse.GetValue(DriverOption), parse.GetValue(PathsOption)!, parse.GetValue(SocketOption));

    /// <summary>Points the loader at --driver (before the first device is opened) and opens xpu:0.</summary>
    public LevelZeroDevice OpenDevice()
    {
        if (Driver is not null) LevelZeroDevice.UseDriver(Driver);
        return LevelZeroDevice.Open(0);
    }

    private static bool TryParsePath(string text, out XpuSharePath path)
    {
        (var known, path) = text.Trim() switch
        {
            "ipc" => (true, XpuSharePath.SameDeviceIpc),
            "dmabuf" => (true, XpuSharePath.DmaBuf),
            "staged" => (true, XpuSharePath.HostStaged),
            _ => (false, default),
        };
        return known;
    }

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
