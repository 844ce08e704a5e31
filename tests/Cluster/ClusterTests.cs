using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using PdRdma.Hosting.Clusters;
using PdRdma.Tests.Serving;
using Xunit.Abstractions;

namespace PdRdma.Tests.Cluster;

/// <summary>
/// 2 prefill + 2 decode nodes and a proxy that know nothing of each other but etcd's URL (a real etcd on a loopback
/// port, TTL 2 s): outputs identical to colocated under load; a decode node killed under load leaves the routing
/// within TTL + 1 s with failures only among the requests it held, and serves again once restarted; etcd lost while
/// running leaves every part serving with the last known membership and saying so in /health.
/// One cluster for the whole scenario: starting it is the slow part.
/// </summary>
[Collection(ClusterProcessesCollection.Name)]
public sealed class ClusterTests(ITestOutputHelper output)
{
    private const int Ttl = 3;
    private const int MaxTokens = 8;
    private static readonly string[] Prompts = Enumerable.Range(0, 12).Select(i => $"Once upon a time there was a little {(i % 2 == 0 ? "cat" : "dog")} number {i}").ToArray();

    [Fact]
    public async Task TwoPrefillTwoDecodeThroughEtcd_IdenticalOutputs_FailoverAndEtcdLoss()
    {
        await using var cluster = await DiscoveryCluster.StartAsync(new DiscoverySpec
        {
            Prefill = 2, Decode = 2, EtcdTtlSeconds = Ttl, Model = ClusterFixture.Model, Colocated = true, Prefix = "pdk", TokenTimeoutSeconds = 20,
        }, CancellationToken.None);
        cluster.KeepLogs = true;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        var expected = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var prompt in Prompts) expected[prompt] = await Completions.TextAsync(http, cluster.ColocatedUrl, prompt, MaxTokens);

        // 1. 200 requests at concurrency 16: every one served and identical to colocated, both decode nodes used.
        var first = await LoadAsync(http, cluster.ProxyUrl, 200, 16, null);
        Assert.True(first.Failures.IsEmpty, "failures: " + string.Join("\n", first.Failures.Take(5)));
        foreach (var r in first.Served) Assert.Equal(expected[r.Prompt], r.Text);
        Assert.Equal(2, first.Served.Select(s => s.Decode).Distinct().Count());
        Assert.Equal(2, first.Served.Select(s => s.Prefill).Distinct().Count());

        // 2. Kill decode node d1 under the same load.
        var victimUrl = cluster.EngineUrls["d1"];
        var victimPeer = (await Completions.HealthAsync(http, cluster.DaemonHealth["d1"])).GetProperty("peer_endpoint").GetString()!;
        var killedAt = new TaskCompletionSource<TimeSpan>();
        var clock = Stopwatch.StartNew();
        var leftAt = TimeSpan.Zero;
        var load = LoadAsync(http, cluster.ProxyUrl, 200, 16, done =>
        {
            if (done == 40 && !killedAt.Task.IsCompleted)
            {
                cluster.KillNode("d1");
                killedAt.SetResult(clock.Elapsed);
            }
        }, clock);
        var killed = await killedAt.Task.WaitAsync(TimeSpan.FromMinutes(3));
        while (true)
        {
            var health = await Completions.HealthAsync(http, cluster.ProxyUrl + "/health");
            if (!health.GetProperty("decode").EnumerateArray().Any(d => d.GetProperty("url").GetString() == victimUrl)) break;
            Assert.True(clock.Elapsed - killed < TimeSpan.FromSeconds(Ttl + 5), "the dead node is still routed to");
            await Task.Delay(20);
        }
        leftAt = clock.Elapsed - killed;
        var second = await load;
        output.WriteLine($"failover: the dead decode node left the routing {leftAt.TotalMilliseconds:0} ms after SIGKILL (TTL {Ttl} s); {second.Failures.Count} of 200 requests failed, {second.Served.Count} served");
        await File.AppendAllTextAsync(Path.Combine(Path.GetTempPath(), "pdrdma-cluster-failover.txt"),
            $"{DateTime.UtcNow:O} route-around {leftAt.TotalMilliseconds:0} ms, failed {second.Failures.Count}/200, ttl {Ttl} s\n");
        Assert.True(leftAt <= TimeSpan.FromSeconds(Ttl + 1), $"the dead node left the routing after {leftAt}");
        foreach (var r in second.Served) Assert.Equal(expected[r.Prompt], r.Text); // no wrong output
        foreach (var failure in second.Failures)
        {
            Assert.True(failure.Status is 502 or 503, $"unclean failure: {failure}");
            Assert.True(failure.Body.Contains(victimUrl, StringComparison.Ordinal) || failure.Body.Contains(victimPeer, StringComparison.Ordinal) || System.Text.RegularExpressions.Regex.IsMatch(failure.Body, @"\bd1\b"),
                $"a request the dead node did not hold failed: {failure}");
            // A request sent after the node left the routing (plus the watch's slack) was never routed to it.
            Assert.True(failure.Started < killed + leftAt + TimeSpan.FromSeconds(1), $"a request sent after the node left the routing failed: {failure}");
        }
        Assert.True(second.Served.Count >= 200 - 16 * 3, $"only {second.Served.Count} served; failures:\n" + string.Join("\n", second.Failures.OrderBy(f => f.Started).Take(8)) + "\n...\n" + string.Join("\n", second.Failures.OrderBy(f => f.Started).TakeLast(4)));
        Assert.DoesNotContain(second.Served, s => s.Decode == victimUrl && s.Started > killed); // sent after the kill, served by the dead node?
        foreach (var (name, part) in cluster.Parts)
            if (name is not ("d1" or "daemon-d1")) Assert.False(part.HasExited, $"{name} died:\n{part.Tail()}");

        // 3. Restart it: it registers again and serves identically.
        await cluster.RestartNodeAsync("d1", CancellationToken.None);
        await cluster.WaitRoutableAsync(2, 2, TimeSpan.FromSeconds(30), CancellationToken.None);
        var back = await LoadAsync(http, cluster.ProxyUrl, 48, 8, null);
        Assert.True(back.Failures.IsEmpty, "failures after restart: " + string.Join("\n", back.Failures.Take(5)));
        foreach (var r in back.Served) Assert.Equal(expected[r.Prompt], r.Text);
        Assert.Contains(back.Served, s => s.Decode == victimUrl);

        // 4. etcd lost while running: every part keeps serving with the last known membership and says so.
        cluster.Etcd!.Kill();
        await EventuallyAsync(async () =>
            (await Completions.HealthAsync(http, cluster.ProxyUrl + "/health")).GetProperty("directory").GetString()!.Contains("unreachable", StringComparison.Ordinal)
            && (await Completions.HealthAsync(http, cluster.DaemonHealth["d0"])).GetProperty("directory").GetProperty("state").GetString()!.Contains("unreachable", StringComparison.Ordinal)
            && (await Completions.HealthAsync(http, cluster.EngineUrls["p0"] + "/health")).GetProperty("directory").GetProperty("state").GetString()!.Contains("unreachable", StringComparison.Ordinal));
        var proxyHealth = await Completions.HealthAsync(http, cluster.ProxyUrl + "/health");
        Assert.Contains("last known membership", proxyHealth.GetProperty("directory").GetString());
        Assert.Equal(2, proxyHealth.GetProperty("decode").GetArrayLength());
        var lost = await LoadAsync(http, cluster.ProxyUrl, 32, 8, null);
        Assert.True(lost.Failures.IsEmpty, "failures while etcd is down: " + string.Join("\n", lost.Failures.Take(5)));
        foreach (var r in lost.Served) Assert.Equal(expected[r.Prompt], r.Text);
        Assert.Contains("etcd", cluster.Parts["proxy"].Tail(200));
        Assert.Contains("lost", cluster.Parts["daemon-d0"].Tail(200));

        await cluster.Etcd.StartAgainAsync(CancellationToken.None);
        await EventuallyAsync(async () => (await Completions.HealthAsync(http, cluster.ProxyUrl + "/health")).GetProperty("directory").GetString() == "watching"
            && (await Completions.HealthAsync(http, cluster.DaemonHealth["d0"])).GetProperty("directory").GetProperty("state").GetString() == "connected");
        await cluster.WaitRoutableAsync(2, 2, TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.Equal(expected[Prompts[0]], await Completions.TextAsync(http, cluster.ProxyUrl, Prompts[0], MaxTokens));
        cluster.KeepLogs = false;
    }

    private sealed record Failure(int Status, string Body, TimeSpan Started, TimeSpan At)
    {
        public override string ToString() => $"{Status}, started {Started.TotalMilliseconds:0} ms, failed {At.TotalMilliseconds:0} ms: {Body}";
    }

    /// <summary><paramref name="count"/> requests, <paramref name="concurrency"/> at a time; <paramref name="onDone"/> gets the number finished so far.</summary>
    private static async Task<LoadResult> LoadAsync(HttpClient http, string proxy, int count, int concurrency, Action<int>? onDone, Stopwatch? clock = null)
    {
        var served = new ConcurrentBag<Served>();
        var failures = new ConcurrentBag<Failure>();
        var next = -1;
        var done = 0;
        clock ??= Stopwatch.StartNew();
        async Task Worker()
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var prompt = Prompts[i % Prompts.Length];
                var started = clock.Elapsed;
                using var response = await http.PostAsJsonAsync(proxy + "/v1/completions", new { prompt, max_tokens = MaxTokens, temperature = 0 });
                var body = await response.Content.ReadAsStringAsync();
                if (response.IsSuccessStatusCode)
                {
                    using var json = JsonDocument.Parse(body);
                    var extras = json.RootElement.GetProperty("pdrdma");
                    served.Add(new Served(prompt, json.RootElement.GetProperty("choices")[0].GetProperty("text").GetString()!,
                        extras.GetProperty("decode_instance").GetString()!, extras.GetProperty("prefill_instance").GetString()!, started, clock.Elapsed));
                }
                else
                {
                    failures.Add(new Failure((int)response.StatusCode, body, started, clock.Elapsed));
                }
                onDone?.Invoke(Interlocked.Increment(ref done));
            }
        }
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(Worker)));
        return new LoadResult(served, failures);
    }

    private sealed record Served(string Prompt, string Text, string Decode, string Prefill, TimeSpan Started, TimeSpan At);

    private sealed record LoadResult(ConcurrentBag<Served> Served, ConcurrentBag<Failure> Failures);

    private static async Task EventuallyAsync(Func<Task<bool>> condition)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if (await condition()) return;
            }
            catch (Exception e) when (e is HttpRequestException or KeyNotFoundException or InvalidOperationException or TaskCanceledException)
            {
            }
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "condition not reached within 30 s");
            await Task.Delay(100);
        }
    }
}
