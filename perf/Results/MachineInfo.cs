using System.Runtime.InteropServices;

namespace PdRdma.Perf.Results;

/// <summary>The machine a run was measured on.</summary>
public sealed record MachineInfo
{
    public required string CpuModel { get; init; }
    public required int Cores { get; init; }
    public required string Kernel { get; init; }
    public required long MemoryBytes { get; init; }
    public required string Runtime { get; init; }
    public required string Os { get; init; }

    /// <summary>1-minute load average when the run started: on a shared machine it says how much the numbers were disturbed.</summary>
    public double LoadAverage { get; init; }

    /// <summary>The same, when the run ended.</summary>
    public double LoadAverageAtEnd { get; set; }

    public static double ReadLoadAverage()
    {
        var text = TryRead("/proc/loadavg");
        return text is not null && double.TryParse(text.Split(' ')[0], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var load) ? load : double.NaN;
    }

    public static MachineInfo Current()
    {
        var cpu = ReadField("/proc/cpuinfo", "model name") ?? RuntimeInformation.ProcessArchitecture.ToString();
        var memKb = ReadField("/proc/meminfo", "MemTotal")?.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
        return new MachineInfo
        {
            CpuModel = cpu,
            Cores = Environment.ProcessorCount,
            Kernel = TryRead("/proc/sys/kernel/osrelease") ?? Environment.OSVersion.VersionString,
            MemoryBytes = long.TryParse(memKb, out var kb) ? kb * 1024 : 0,
            Runtime = RuntimeInformation.FrameworkDescription,
            Os = PrettyOs(),
            LoadAverage = ReadLoadAverage(),
        };
    }

    private static string PrettyOs()
    {
        var line = File.Exists("/etc/os-release")
            ? File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))
            : null;
        return line is null ? RuntimeInformation.OSDescription : line["PRETTY_NAME=".Length..].Trim('"');
    }

    private static string? ReadField(string path, string key)
    {
        if (!File.Exists(path)) return null;
        foreach (var line in File.ReadLines(path))
        {
            var colon = line.IndexOf(':');
            if (colon > 0 && line[..colon].Trim() == key) return line[(colon + 1)..].Trim();
        }
        return null;
    }

    private static string? TryRead(string path) => File.Exists(path) ? File.ReadAllText(path).Trim() : null;
}
