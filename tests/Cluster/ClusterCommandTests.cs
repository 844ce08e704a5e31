using System.Diagnostics;
using PdRdma.Tests.Serving;
using PdRdma.Hosting.Processes;
using PdRdma.Hosting.Network;

namespace PdRdma.Tests.Cluster;

/// <summary>
/// <c>pdrdma cluster</c> as a user runs it: it prints <c>proxy: http://HOST:PORT</c> once the proxy routes, that proxy
/// serves, and SIGTERM stops every part and removes the work directory (and, as root, the namespaces and bridge).
/// </summary>
[Collection(ClusterProcessesCollection.Name)]
public sealed class ClusterCommandTests
{
    [RootFact]
    public Task ClusterCommandInNetworkNamespaces_Root() => RunAsync();

    [Fact]
    public Task ClusterCommandOnLoopback() => RunAsync("--loopback");

    private static async Task RunAsync(params string[] extra)
    {
        var info = PdrdmaProgram.Cli.StartInfo(["cluster", "--prefill", "1", "--decode", "1", "--model", "toy", "--etcd-ttl", "2", "--port", FreePorts.One().ToString(System.Globalization.CultureInfo.InvariantCulture), .. extra]);
        info.RedirectStandardOutput = info.RedirectStandardError = true;
        using var process = Process.Start(info)!;
        var errors = process.StandardError.ReadToEndAsync();
        var lines = new List<string>();
        try
        {
            string? proxy = null;
            using (var bounded = new CancellationTokenSource(TimeSpan.FromMinutes(3)))
            {
                while (proxy is null)
                {
                    var line = await process.StandardOutput.ReadLineAsync(bounded.Token);
                    if (line is null) Assert.Fail($"cluster ended before printing the proxy: {string.Join('\n', lines)}\n{await errors}");
                    lines.Add(line!);
                    if (line!.StartsWith("proxy: http://", StringComparison.Ordinal)) proxy = line["proxy: ".Length..];
                }
            }
            var work = lines.Single(l => l.StartsWith("logs: ", StringComparison.Ordinal))["logs: ".Length..];
            Assert.True(Directory.Exists(work));
            if (extra.Length == 0) Assert.Contains("network namespaces", lines.Single(l => l.StartsWith("topology: ", StringComparison.Ordinal)));

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            Assert.False(string.IsNullOrEmpty(await Completions.TextAsync(http, proxy!, "hello cluster", 4)));

            using (var term = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) await term.WaitForExitAsync();
            using (var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(60))) await process.WaitForExitAsync(bounded.Token);
            if (process.ExitCode != 0) Assert.Fail($"exit {process.ExitCode}: {await errors}");
            Assert.False(Directory.Exists(work), $"{work} left behind");
            using var pgrep = Process.Start(new ProcessStartInfo("pgrep", ["-f", work]) { RedirectStandardOutput = true })!;
            Assert.Equal("", (await pgrep.StandardOutput.ReadToEndAsync()).Trim());
            await pgrep.WaitForExitAsync();
            if (extra.Length == 0)
            {
                using var ip = Process.Start(new ProcessStartInfo("ip", ["netns", "list"]) { RedirectStandardOutput = true })!;
                var id = Path.GetFileName(work).Split('-')[1];
                Assert.DoesNotContain($"pdc-{id}", await ip.StandardOutput.ReadToEndAsync());
            }
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }
}
