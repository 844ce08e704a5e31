using System.Globalization;
using System.Text.RegularExpressions;
using PdRdma.Perf.Hosts;
using PdRdma.Hosting.Processes;

namespace PdRdma.Perf.Baselines;

/// <summary>
/// qperf's tcp_lat on the same path as the tcp backend (the server where the target runs, the client where the
/// initiator runs): the one-way latency of a message of the given size, the figure the latency pattern is compared to.
/// </summary>
public static partial class QperfBaseline
{
    public static bool IsInstalled => ExternalTool.Find("qperf") is not null;

    /// <summary>qperf's tcp_lat in microseconds (qperf reports half the round trip).</summary>
    public static async Task<double> TcpLatencyUsAsync(BenchPath path, int port, long bytes, TimeSpan duration, CancellationToken ct)
    {
        var qperf = ExternalTool.Find("qperf") ?? throw new InvalidOperationException("qperf is not installed (scripts/setup.sh installs it)");
        var portText = port.ToString(CultureInfo.InvariantCulture);
        var serverArgs = path.TargetCommand(qperf, "-lp", portText);
        await using var server = ChildProcess.Start("qperf server", serverArgs);
        var clientArgs = path.InitiatorCommand(qperf, "-lp", portText, "-m", bytes.ToString(CultureInfo.InvariantCulture),
            "-t", Math.Max(1, (int)Math.Round(duration.TotalSeconds)).ToString(CultureInfo.InvariantCulture), path.TargetAddress, "tcp_lat");
        for (var attempt = 0; ; attempt++)
        {
            var (exit, stdout, stderr) = await ChildProcess.RunAsync(clientArgs, duration + TimeSpan.FromSeconds(20), ct);
            var match = Latency().Match(stdout);
            if (match.Success)
            {
                var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
                return match.Groups[2].Value switch { "ns" => value / 1000, "ms" => value * 1000, "sec" => value * 1e6, _ => value };
            }
            if (attempt >= 40 || server.HasExited)
            {
                throw new InvalidOperationException($"qperf tcp_lat exited {exit}: {(stderr + stdout).Trim()} (server: {server.Stderr.Trim()})");
            }
            await Task.Delay(100, ct);
        }
    }

    [GeneratedRegex(@"latency\s*=\s*([0-9.]+)\s*(ns|us|ms|sec)")]
    private static partial Regex Latency();
}
