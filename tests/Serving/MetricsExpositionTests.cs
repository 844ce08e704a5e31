using System.Globalization;
using System.Text.RegularExpressions;
using PdRdma.Hosting.Clients;
using PdRdma.Hosting.Clusters;

namespace PdRdma.Tests.Serving;

/// <summary>
/// /metrics of real processes (a daemon, a serving engine, the proxy) parsed as the Prometheus text exposition format:
/// every sample belongs to a declared family, every family is named <c>pdrdma_&lt;part&gt;_&lt;what&gt;[_&lt;unit&gt;]</c>
/// with a kind Prometheus knows, no series appears twice, and a peer's series leave when its link does.
/// </summary>
public sealed partial class MetricsExpositionTests
{
    private static readonly string[] Parts = ["transport", "daemon", "engine", "serving"];

    [Fact]
    public async Task EveryProcessExportsOneSchemeAndADroppedPeersSeriesDisappear()
    {
        await using var cluster = await LocalCluster.StartAsync(new ClusterSpec
        {
            Prefix = "pdx", Namespaces = false, Model = ClusterFixture.Model, Colocated = false,
        }, CancellationToken.None);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        // the first request through a fresh cluster pays JIT and handshakes in five processes; on a loaded host it may
        // outlast its lease and be refused (a typed error, retried here): what is measured is the metrics, not that
        CompletionResult? result = null;
        for (var attempt = 0; attempt < 3 && result is null; attempt++)
        {
            try { result = await CompletionClient.StreamAsync(http, cluster.ProxyUrl, "Once upon a time", 4, CancellationToken.None); }
            catch (HttpRequestException) when (attempt < 2) { }
        }
        Assert.True(result!.Tokens > 0);

        var daemonMetrics = cluster.DaemonAHealth.Replace("/health", "/metrics", StringComparison.Ordinal);
        foreach (var url in new[] { daemonMetrics, cluster.DaemonBHealth.Replace("/health", "/metrics", StringComparison.Ordinal),
                     cluster.PrefillUrl + "/metrics", cluster.DecodeUrl + "/metrics", cluster.ProxyUrl + "/metrics" })
        {
            var exposition = Parse(await http.GetStringAsync(url), url);
            Assert.True(exposition.Families.Count > 0, $"{url}: no pdrdma metrics");
        }
        var before = Parse(await http.GetStringAsync(daemonMetrics), daemonMetrics);
        Assert.Contains(before.Samples, s => s.Name == "pdrdma_daemon_peer_links" && s.Labels.Contains("peer=\"node-b\"", StringComparison.Ordinal));
        Assert.Contains(before.Samples, s => s.Name == "pdrdma_daemon_written_bytes_total" && s.Labels.Contains("peer=\"node-b\"", StringComparison.Ordinal) && s.Value > 0);
        Assert.Equal("counter", before.Families["pdrdma_daemon_written_bytes_total"]);
        Assert.Equal("histogram", before.Families["pdrdma_daemon_transfer_latency_seconds"]);
        Assert.Equal("gauge", before.Families["pdrdma_daemon_peer_links"]);

        // node B goes: its link ends, and with it every series labelled with it
        cluster.Parts["decode"].Kill();
        cluster.Parts["daemon-b"].Kill();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        Exposition after;
        do
        {
            await Task.Delay(500);
            after = Parse(await http.GetStringAsync(daemonMetrics), daemonMetrics);
        }
        while (after.Samples.Any(s => s.Labels.Contains("peer=\"node-b\"", StringComparison.Ordinal)) && DateTime.UtcNow < deadline);
        Assert.DoesNotContain(after.Samples, s => s.Labels.Contains("peer=\"node-b\"", StringComparison.Ordinal));
        Assert.Contains("pdrdma_daemon_leases_active", after.Families.Keys);
    }

    [Theory]
    [InlineData("# TYPE pdrdma_daemon_peer_links gauge\npdrdma_daemon_peer_links{peer=\"a\"} 1\npdrdma_daemon_peer_links{peer=\"a\"} 1\n", "twice")]
    [InlineData("pdrdma_daemon_orphan 1\n", "no TYPE")]
    [InlineData("# TYPE pdrdma.daemon.bytes counter\npdrdma.daemon.bytes 1\n", "name")]
    [InlineData("# TYPE pdrdma_daemon_x_bytes gauge\npdrdma_daemon_x_bytes{peer=a} 1\n", "sample")]
    public void TheParserRejectsWhatPrometheusWouldNot(string text, string problem)
    {
        var e = Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => Parse(text, "sample"));
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }

    private sealed record Sample(string Name, string Labels, double Value);

    private sealed record Exposition(Dictionary<string, string> Families, List<Sample> Samples);

    /// <summary>The text format (version 0.0.4); fails the test on anything a Prometheus server would reject or that breaks the scheme.</summary>
    private static Exposition Parse(string text, string source)
    {
        var families = new Dictionary<string, string>(StringComparer.Ordinal);
        var samples = new List<Sample>();
        var series = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line.StartsWith("# HELP ", StringComparison.Ordinal) || line.StartsWith("# EOF", StringComparison.Ordinal)) continue;
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ');
                Assert.True(parts.Length == 4 && parts[3] is "counter" or "gauge" or "histogram" or "summary" or "untyped", $"{source}: bad TYPE line '{line}'");
                Assert.True(SchemeName().IsMatch(parts[2]), $"{source}: family name '{parts[2]}' is not pdrdma_<part>_<what>[_<unit>] (parts: {string.Join(", ", Parts)})");
                Assert.True(families.TryAdd(parts[2], parts[3]), $"{source}: family {parts[2]} declared twice");
                continue;
            }
            if (line.StartsWith('#')) continue;
            var match = SampleLine().Match(line);
            Assert.True(match.Success, $"{source}: malformed sample line '{line}'");
            var name = match.Groups["name"].Value;
            var labels = match.Groups["labels"].Value;
            var family = families.Keys.FirstOrDefault(f => name == f || (families[f] == "histogram" && name is var n && (n == f + "_bucket" || n == f + "_sum" || n == f + "_count")));
            Assert.True(family is not null, $"{source}: sample {name} has no TYPE line before it");
            Assert.True(series.Add(name + "{" + labels + "}"), $"{source}: series {name}{{{labels}}} appears twice");
            var value = match.Groups["value"].Value;
            Assert.True(value is "NaN" or "+Inf" or "-Inf" || double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _), $"{source}: bad value in '{line}'");
            samples.Add(new(name, labels, double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : double.NaN));
        }
        return new(families, samples);
    }

    [GeneratedRegex("^pdrdma_(transport|daemon|engine|serving)_[a-z0-9]+(_[a-z0-9]+)*$")]
    private static partial Regex SchemeName();

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*)\})? (?<value>\S+)( \d+)?$""")]
    private static partial Regex SampleLine();
}
