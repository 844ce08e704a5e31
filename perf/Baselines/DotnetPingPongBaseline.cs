using System.Globalization;
using System.Text.Json;
using PdRdma.Hosting.Processes;
using PdRdma.Perf.Hosts;

namespace PdRdma.Perf.Baselines;

/// <summary>
/// A raw .NET socket ping-pong on the same path as the tcp backend (echo where the target runs, client where the
/// initiator runs): the round trip the runtime itself costs, a bound for the latency pattern next to qperf's C.
/// </summary>
public static class DotnetPingPongBaseline
{
    /// <summary>The baseline's name in reports: <c>dotnet_socket_pingpong_blocking</c> or <c>dotnet_socket_pingpong_async</c>.</summary>
    public static string Name(SocketPingPong.Mode mode) => $"dotnet_socket_pingpong_{mode.ToString().ToLowerInvariant()}";

    /// <summary>Median and 99th percentile round trip in microseconds (a full round trip, unlike qperf's tcp_lat).</summary>
    public static async Task<(double P50, double P99)> RoundTripUsAsync(BenchPath path, int port, int bytes, SocketPingPong.Mode mode, TimeSpan duration, CancellationToken ct)
    {
        var sizeText = bytes.ToString(CultureInfo.InvariantCulture);
        var modeText = mode.ToString().ToLowerInvariant();
        var serverArgs = path.TargetCommand(PdrdmaProgram.Bench.Line("pingpong", "--listen", $"{path.TargetAddress}:{port}", "--size", sizeText, "--mode", modeText));
        await using var server = ChildProcess.Start($"pingpong echo ({modeText})", serverArgs, redirectStdin: true);
        var ready = await server.ExpectAsync("ready ", TimeSpan.FromSeconds(60), ct);
        var endpoint = ready["ready ".Length..].Trim();
        var clientArgs = path.InitiatorCommand(PdrdmaProgram.Bench.Line("pingpong", "--peer", endpoint, "--size", sizeText, "--mode", modeText,
            "--seconds", Math.Max(1, (int)Math.Round(duration.TotalSeconds)).ToString(CultureInfo.InvariantCulture)));
        var (exit, stdout, stderr) = await ChildProcess.RunAsync(clientArgs, duration + TimeSpan.FromSeconds(60), ct);
        await server.CloseInputAndWaitAsync(TimeSpan.FromSeconds(5));
        var line = stdout.Split('\n').FirstOrDefault(l => l.StartsWith('{'))
            ?? throw new InvalidOperationException($"pingpong client exited {exit}: {(stderr + stdout).Trim()}");
        using var json = JsonDocument.Parse(line);
        return (json.RootElement.GetProperty("p50_us").GetDouble(), json.RootElement.GetProperty("p99_us").GetDouble());
    }
}
