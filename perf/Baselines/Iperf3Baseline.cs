using System.Globalization;
using PdRdma.Perf.Hosts;
using PdRdma.Hosting.Processes;

namespace PdRdma.Perf.Baselines;

/// <summary>
/// iperf3 over the same path as the tcp backend: the server runs where the target runs (its namespace), the client
/// where the initiator runs. One run per write size, capped at iperf3's 1 MiB block limit.
/// </summary>
public sealed class Iperf3Baseline(BenchPath path, int port)
{
    /// <summary>iperf3 refuses TCP blocks larger than this.</summary>
    public const int MaxBlockBytes = 1 << 20;

    public static bool IsInstalled => ExternalTool.Find("iperf3") is not null;

    public async Task<Iperf3Result> MeasureAsync(long writeBytes, TimeSpan duration, CancellationToken ct)
    {
        var iperf3 = ExternalTool.Find("iperf3") ?? throw new InvalidOperationException("iperf3 is not installed (scripts/setup.sh installs it)");
        var block = (int)Math.Clamp(writeBytes, 1, MaxBlockBytes);
        var portText = port.ToString(CultureInfo.InvariantCulture);
        var serverArgs = path.TargetCommand(iperf3, "-s", "-1", "-B", path.TargetAddress, "-p", portText);
        await using var server = ChildProcess.Start("iperf3 server", serverArgs);
        var clientArgs = path.InitiatorCommand(iperf3, "-c", path.TargetAddress, "-p", portText, "-J",
            "-l", block.ToString(CultureInfo.InvariantCulture), "-t", Math.Max(1, (int)Math.Round(duration.TotalSeconds)).ToString(CultureInfo.InvariantCulture)); // iperf3 takes whole seconds
        // The server cannot be probed from here (it may sit in another namespace): retry the client until it connects.
        for (var attempt = 0; ; attempt++)
        {
            var (exit, stdout, stderr) = await ChildProcess.RunAsync(clientArgs, duration + TimeSpan.FromSeconds(20), ct);
            if (stdout.TrimStart().StartsWith('{'))
            {
                try
                {
                    return Iperf3JsonParser.Parse(stdout);
                }
                catch (FormatException e) when (attempt < 40 && e.Message.Contains("unable to connect", StringComparison.OrdinalIgnoreCase) && !server.HasExited)
                {
                }
            }
            else if (attempt >= 40 || server.HasExited)
            {
                throw new InvalidOperationException($"iperf3 client exited {exit}: {stderr.Trim()} (server: {server.Stderr.Trim()})");
            }
            await Task.Delay(100, ct);
        }
    }
}
