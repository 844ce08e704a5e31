using PdRdma.Hosting.Network;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using PdRdma.Engines.Kv;
using PdRdma.Engines.Serving;

namespace PdRdma.Tests.Serving;

/// <summary>Overload, bad model paths and pools left in /dev/shm by killed engines.</summary>
public sealed class ServingProcessTests
{
    [Fact]
    public async Task PastTheQueueBoundClientsGet503WithRetryAfterInTheOpenAiShape()
    {
        var port = FreePorts.One();
        await using var host = await ServingHost.StartAsync(new ServeOptions
        {
            Port = port,
            Limits = new ServingLimits { MaxBatch = 1, MaxQueue = 1 },
        }, CancellationToken.None);
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(2) };
        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            using var response = await http.PostAsJsonAsync($"http://127.0.0.1:{port}/v1/completions", new { prompt = "Once upon a time", max_tokens = 300, temperature = 0 });
            return (response.StatusCode, RetryAfter: response.Headers.RetryAfter?.Delta, Body: await response.Content.ReadAsStringAsync());
        }));
        Assert.Contains(answers, a => a.StatusCode == HttpStatusCode.OK);
        var refused = answers.Where(a => a.StatusCode != HttpStatusCode.OK).ToList();
        Assert.NotEmpty(refused);
        foreach (var (status, retry, body) in refused)
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.NotNull(retry);
            using var json = JsonDocument.Parse(body);
            var error = json.RootElement.GetProperty("error");
            Assert.Equal("server_overloaded", error.GetProperty("code").GetString());
            Assert.Equal(JsonValueKind.Null, error.GetProperty("param").ValueKind);
        }
    }

    [Theory]
    [InlineData("folder")]
    [InlineData("missing")]
    public async Task ABadModelPathIsOneLineAndExit2(string kind)
    {
        var empty = Path.Combine(Path.GetTempPath(), "pdrdma-empty-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(empty);
        try
        {
            var model = kind == "folder" ? empty : Path.Combine(empty, "stories26OK.bin");
            var (code, output) = await Daemon.TestPaths.RunCliAsync(TimeSpan.FromSeconds(90), "serve", "--model", model, "--port", FreePorts.One().ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(2, code);
            var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => l.StartsWith("pdrdma serve:", StringComparison.Ordinal)).ToList();
            Assert.Single(lines);
            Assert.Contains(model, lines[0]);
            Assert.DoesNotContain("   at ", output);
            Assert.DoesNotContain("Unhandled exception", output);
        }
        finally
        {
            Directory.Delete(empty, true);
        }
    }

    [Fact]
    public async Task AServeFolderHoldingOneLlama2cCheckpointLoadsIt()
    {
        var port = FreePorts.One();
        await using var host = await ServingHost.StartAsync(new ServeOptions { Port = port, Model = Path.Combine(Engines.TestModels.RepoRoot, "models", "stories260K") }, CancellationToken.None);
        using var http = new HttpClient();
        Assert.Contains("Lily", await Completions.TextAsync(http, $"http://127.0.0.1:{port}", "Once upon a time", 12));
    }

    [Fact]
    public async Task PoolFilesOfKilledEnginesAreRemovedAtTheNextStart()
    {
        // A process that has exited: its pid names no live process (the kernel may reuse it later; the sweep checks then).
        using var gone = Process.Start(new ProcessStartInfo("true"))!;
        await gone.WaitForExitAsync();
        var stale = Path.Combine(PdRdma.Transport.HostRegion.DefaultDirectory, $"pdrdma.{gone.Id}.serve-left-behind");
        var live = Path.Combine(PdRdma.Transport.HostRegion.DefaultDirectory, $"pdrdma.{Environment.ProcessId}.serve-still-mine");
        await File.WriteAllBytesAsync(stale, new byte[4096]);
        await File.WriteAllBytesAsync(live, new byte[4096]);
        try
        {
            Assert.True(StaleRegions.Sweep() >= 1);
            Assert.False(File.Exists(stale));
            Assert.True(File.Exists(live)); // a live process's pool is never touched
        }
        finally
        {
            File.Delete(stale);
            File.Delete(live);
        }
    }
}
