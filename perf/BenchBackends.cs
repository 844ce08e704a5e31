namespace PdRdma.Perf;

/// <summary>The backend names the benchmarks take on their command lines, and their transfer-library choice.</summary>
public static class BenchBackends
{
    public static IReadOnlyList<string> All { get; } = ["shm", "tcp", "verbs"];

    public static string Check(string name) => All.Contains(name)
        ? name
        : throw new ArgumentException($"unknown backend '{name}' (shm, tcp, verbs)");

    public static PdRdma.Transport.BackendChoice ToChoice(string name) => Check(name) switch
    {
        "shm" => PdRdma.Transport.BackendChoice.Shm,
        "tcp" => PdRdma.Transport.BackendChoice.Tcp,
        _ => PdRdma.Transport.BackendChoice.Verbs,
    };
}
