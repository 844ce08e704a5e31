using OpenTelemetry.Metrics;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PdRdma.Daemon.Observability;
using PdRdma.Engines.Serving.Api;
using PdRdma.Engines.Serving.Routing;

namespace PdRdma.Engines.Serving;

/// <summary>
/// OpenAI-compatible front for disaggregated serving. Per request: reserve blocks on the least-loaded decode
/// instance, run prefill on the least-loaded prefill instance (which pushes the KV into those blocks), then
/// stream the decode instance's tokens back. Every upstream call is bounded; a failure is an HTTP error (or an
/// SSE error chunk once streaming started) naming the instance and the cause, and the reservation is cancelled.
/// </summary>
public sealed partial class ProxyHost : IAsyncDisposable
{
    private readonly ProxyOptions _options;
    private readonly WebApplication _app;
    private readonly HttpClient _http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), MaxConnectionsPerServer = 256, MaxResponseDrainSize = 0 }) { Timeout = Timeout.InfiniteTimeSpan };
    private readonly IUpstreamDirectory _upstreams;
    private readonly ServingMetrics _metrics = new("proxy");
    private readonly ILogger _log;
    private string _model = "";

    private ProxyHost(ProxyOptions options, WebApplication app, IUpstreamDirectory upstreams)
    {
        _options = options;
        _app = app;
        _upstreams = upstreams;
        _log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("PdRdma.Proxy");
    }

    public static async Task<ProxyHost> StartAsync(ProxyOptions options, CancellationToken ct)
    {
        IUpstreamDirectory? upstreams = options.Etcd.Enabled ? null : new StaticUpstreams(options.Prefill, options.Decode);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("System.Net.Http", LogLevel.Warning);
        builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddMeter("PdRdma.*").AddPrometheusExporter(o => { o.ScrapeResponseCacheDurationMilliseconds = 0; o.ScopeInfoEnabled = false; o.TargetInfoEnabled = false; }));
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Parse(options.Host), options.Port);
            k.Limits.MaxRequestBodySize = options.Limits.MaxBodyBytes;
        });
        var app = builder.Build();
        try
        {
            upstreams ??= await EtcdUpstreams.StartAsync(options.Etcd, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("PdRdma.Proxy.Directory"), ct).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        var proxy = new ProxyHost(options, app, upstreams);
        app.MapPost("/v1/completions", http => proxy.CompleteAsync(http, chat: false));
        app.MapPost("/v1/chat/completions", http => proxy.CompleteAsync(http, chat: true));
        app.MapGet("/v1/models", (Func<HttpContext, Task<IResult>>)proxy.ModelsAsync);
        app.MapGet("/health", (Func<HttpContext, Task<IResult>>)proxy.HealthAsync);
        app.MapPrometheusScrapingEndpoint("/metrics");
        await app.StartAsync(ct).ConfigureAwait(false);
        LogReady(proxy._log, $"{options.Host}:{options.Port}", upstreams.Describe);
        return proxy;
    }

    public Task WaitForShutdownAsync(CancellationToken ct) => _app.WaitForShutdownAsync(ct);

    private async Task<IResult> ModelsAsync(HttpContext http)
    {
        try
        {
            var model = await ModelAsync(http.RequestAborted).ConfigureAwait(false);
            return Results.Json(new { @object = "list", data = new[] { new { id = model, @object = "model", owned_by = "pdrdma", created = 0 } } });
        }
        catch (Exception e)
        {
            var error = OpenAiWriter.Describe(e);
            return Results.Json(new { error = OpenAiWriter.ErrorBody(error) }, statusCode: error.Status);
        }
    }

    /// <summary>The served model's name, learned from a decode instance (the one every request's output comes from).</summary>
    private async Task<string> ModelAsync(CancellationToken ct)
    {
        if (_model.Length > 0) return _model;
        var decode = _upstreams.PickDecode();
        var info = await Stage("decode", decode, GetAsync<NodeInfo>(decode, "/internal/info", ct)).ConfigureAwait(false);
        return info.Model;
    }

    /// <summary>200 while at least one prefill and one decode instance answer /health, else 503; lists each upstream.</summary>
    private async Task<IResult> HealthAsync(HttpContext http)
    {
        async Task<(Upstream Upstream, bool Alive)> ProbeAsync(Upstream upstream)
        {
            try
            {
                using var bounded = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
                bounded.CancelAfter(TimeSpan.FromSeconds(2));
                using var response = await _http.GetAsync(upstream.Url + "/health", bounded.Token).ConfigureAwait(false);
                return (upstream, response.IsSuccessStatusCode);
            }
            catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
            {
                return (upstream, false);
            }
        }
        var prefill = await Task.WhenAll(_upstreams.Prefill.Select(ProbeAsync)).ConfigureAwait(false);
        var decode = await Task.WhenAll(_upstreams.Decode.Select(ProbeAsync)).ConfigureAwait(false);
        var ok = prefill.Any(p => p.Alive) && decode.Any(d => d.Alive);
        return Results.Json(new
        {
            status = ok ? "ok" : "unavailable",
            role = "proxy",
            in_flight = _metrics.InFlight,
            directory = _upstreams.State,
            prefill = prefill.Select(p => new { url = p.Upstream.Url, alive = p.Alive, in_flight = p.Upstream.InFlight }),
            decode = decode.Select(d => new { url = d.Upstream.Url, alive = d.Alive, in_flight = d.Upstream.InFlight }),
        }, statusCode: ok ? 200 : 503);
    }

    private async Task CompleteAsync(HttpContext http, bool chat)
    {
        using var tracked = _metrics.Track();
        OpenAiRequest request;
        string model;
        try
        {
            // The same parser and checks as a colocated instance, so both answer every input alike.
            request = await OpenAiRequestParser.ReadAsync(http, chat, _options.Limits).ConfigureAwait(false);
            model = await ModelAsync(http.RequestAborted).ConfigureAwait(false);
            PromptGate.CheckModel(request.Model, model);
        }
        catch (Exception e)
        {
            _metrics.Request("refused");
            await OpenAiWriter.ErrorAsync(http, e).ConfigureAwait(false);
            return;
        }
        var state = new RequestState();
        var seed = (ulong)Random.Shared.NextInt64();
        try
        {
            await OpenAiWriter.RespondAsync(http, request, model, (choice, ct) => RunAsync(request, choice, seed, state, ct), () => state.PromptTokens,
                () => state.Extras(), http.RequestAborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            state.Failed = true;
        }
        _metrics.Request(state.Failed ? "error" : "ok");
    }

    /// <summary>One choice through the disaggregated path: reserve on decode, prefill pushes the KV, decode streams tokens.</summary>
    private async IAsyncEnumerable<ChoicePiece> RunAsync(OpenAiRequest request, int choice, ulong seed, RequestState state, [EnumeratorCancellation] CancellationToken ct)
    {
        var requestId = "req-" + Guid.NewGuid().ToString("N");
        var maxTokens = request.MaxTokens;
        var sampling = PromptGate.Sampling(request, choice, seed);
        var prefill = _upstreams.PickPrefill();
        var decode = _upstreams.PickDecode();
        using var prefillLoad = prefill.Lease();
        var decodeLoad = decode.Lease();
        var clock = Stopwatch.StartNew();
        var reserved = false;
        var streaming = false;
        try
        {
            prefill.Node ??= (await Stage("prefill", prefill, GetAsync<NodeInfo>(prefill, "/internal/info", ct)).ConfigureAwait(false)).Node;
            ReserveAnswer reserve;
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    reserve = await Stage("decode", decode, PostAsync<ReserveAnswer>(decode, "/internal/reserve",
                        new ReserveCall(requestId, request.PromptText, maxTokens, prefill.Node, request.PromptTokens, request.Chat ? "messages" : "prompt"), _options.ControlTimeout, ct)).ConfigureAwait(false);
                    break;
                }
                catch (ServingException e) when (attempt < 3 && RefusedConnection(e))
                {
                    // Nothing was reserved on an instance that refused the connection (dead, not yet out of the
                    // directory): the request goes to another one.
                    decodeLoad.Dispose();
                    decode = _upstreams.PickDecode();
                    decodeLoad = decode.Lease();
                }
            }
            reserved = true;
            var reservedAt = clock.Elapsed.TotalMilliseconds;
            state.PromptTokens = reserve.Tokens.Length;
            var pushed = await Stage("prefill", prefill, PostAsync<PrefillAnswer>(prefill, "/internal/prefill",
                new PrefillCall(requestId, reserve.Tokens, reserve.Target, sampling.Temperature, sampling.TopP, sampling.Seed), _options.PrefillTimeout, ct)).ConfigureAwait(false);
            if (choice == 0)
            {
                state.Push = pushed;
                state.ReserveMs = reservedAt;
                state.PrefillCallMs = clock.Elapsed.TotalMilliseconds - reservedAt;
            }
            state.PrefillUrl = prefill.Url;
            state.DecodeUrl = decode.Url;
            streaming = true;
            var call = new DecodeCall(requestId, reserve.Tokens, pushed.FirstToken, maxTokens, sampling.Temperature, sampling.TopP, sampling.Seed, pushed.RngState);
            await foreach (var piece in DecodeStreamAsync(decode, call, ct).ConfigureAwait(false))
            {
                if (choice == 0) state.FirstTokenMs ??= clock.Elapsed.TotalMilliseconds;
                else state.AnyFirstToken = true;
                yield return piece;
            }
        }
        finally
        {
            if (reserved && !streaming) await CancelAsync(decode, requestId).ConfigureAwait(false);
            state.Failed |= state.FirstTokenMs is null && !state.AnyFirstToken;
            decodeLoad.Dispose();
        }
    }

    private static bool RefusedConnection(ServingException e) =>
        e.InnerException is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError } or HttpRequestException { InnerException: System.Net.Sockets.SocketException };

    /// <summary>Names the instance and stage in any failure of <paramref name="call"/>.</summary>
    private static async Task<T> Stage<T>(string role, Upstream upstream, Task<T> call)
    {
        try
        {
            return await call.ConfigureAwait(false);
        }
        catch (ServingException e) when (e.Status is >= 400 and < 500 or 503)
        {
            // The client's own fault (or a full engine): relayed exactly as the instance said it, as a colocated server says it.
            throw;
        }
        catch (ServingException e)
        {
            throw new ServingException(e.Status, e.Type, $"{role} instance {upstream.Url} failed: {e.Message}", e) { ErrorCode = e.ErrorCode };
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            upstream.MarkUnreachable();
            throw new ServingException(502, "upstream_failed", $"{role} instance {upstream.Url} is unreachable or failed mid-request: {e.Message}", e);
        }
        catch (OperationCanceledException e)
        {
            throw new ServingException(504, "timeout", $"{role} instance {upstream.Url} did not answer in time", e);
        }
    }

    private async IAsyncEnumerable<ChoicePiece> DecodeStreamAsync(Upstream decode, DecodeCall call, [EnumeratorCancellation] CancellationToken ct)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bounded.CancelAfter(_options.TokenTimeout);
        using var message = new HttpRequestMessage(HttpMethod.Post, decode.Url + "/internal/decode") { Content = JsonContent.Create(call, options: OpenAiWriter.Json) };
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, bounded.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
        {
            throw Upstream502(decode, e, ct);
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode) throw await ErrorOfAsync(decode, "decode", response, ct).ConfigureAwait(false);
            await using var body = await response.Content.ReadAsStreamAsync(bounded.Token).ConfigureAwait(false);
            using var reader = new StreamReader(body);
            while (true)
            {
                bounded.CancelAfter(_options.TokenTimeout);
                string? line;
                try
                {
                    line = await reader.ReadLineAsync(bounded.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
                {
                    throw Upstream502(decode, e, ct);
                }
                if (line is null) throw new ServingException(502, "upstream_failed", $"decode instance {decode.Url} ended its stream before the last token");
                if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
                var e2 = JsonSerializer.Deserialize<TokenEvent>(line.AsSpan(6), OpenAiWriter.Json)!;
                if (e2.Error is not null) throw new ServingException(502, "decode_failed", $"decode instance {decode.Url} failed: {e2.Error}") { ErrorCode = "decode_failed" };
                if (e2.Done)
                {
                    yield return new ChoicePiece("", e2.FinishReason ?? "length");
                    yield break;
                }
                yield return new ChoicePiece(e2.Text ?? "");
            }
        }
    }

    private static ServingException Upstream502(Upstream upstream, Exception e, CancellationToken ct)
    {
        if (e is HttpRequestException or IOException) upstream.MarkUnreachable();
        return Upstream502Of(upstream, e, ct);
    }

    private static ServingException Upstream502Of(Upstream upstream, Exception e, CancellationToken ct) => e is OperationCanceledException && !ct.IsCancellationRequested
        ? new ServingException(504, "timeout", $"decode instance {upstream.Url} sent nothing in time", e)
        : new ServingException(502, "upstream_failed", $"decode instance {upstream.Url} failed mid-request: {e.Message}", e);

    private async Task<T> GetAsync<T>(Upstream upstream, string path, CancellationToken ct)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bounded.CancelAfter(_options.ControlTimeout);
        using var response = await _http.GetAsync(upstream.Url + path, bounded.Token).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode) throw await ErrorOfAsync(upstream, path, response, ct).ConfigureAwait(false);
        var value = await response.Content.ReadFromJsonAsync<T>(OpenAiWriter.Json, bounded.Token).ConfigureAwait(false) ?? throw new ServingException(502, "upstream_failed", "empty answer");
        if (value is NodeInfo info && _model.Length == 0) _model = info.Model;
        return value;
    }

    private async Task<T> PostAsync<T>(Upstream upstream, string path, object body, TimeSpan timeout, CancellationToken ct)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bounded.CancelAfter(timeout);
        using var response = await _http.PostAsJsonAsync(upstream.Url + path, body, OpenAiWriter.Json, bounded.Token).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode) throw await ErrorOfAsync(upstream, path, response, ct).ConfigureAwait(false);
        return await response.Content.ReadFromJsonAsync<T>(OpenAiWriter.Json, bounded.Token).ConfigureAwait(false) ?? throw new ServingException(502, "upstream_failed", "empty answer");
    }

    private static async Task<ServingException> ErrorOfAsync(Upstream upstream, string what, HttpResponseMessage response, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        try
        {
            using var json = JsonDocument.Parse(text);
            var error = json.RootElement.GetProperty("error");
            var code = (int)response.StatusCode;
            var status = code >= 500 && code != 503 ? 502 : code;
            string? Field(string name) => error.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            int? retry = response.Headers.RetryAfter?.Delta is { } delta ? (int)delta.TotalSeconds : null;
            return new ServingException(status, Field("type") ?? "upstream_failed", Field("message") ?? text)
            {
                Param = Field("param"),
                ErrorCode = Field("code"),
                RetryAfterSeconds = retry,
            };
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return new ServingException(502, "upstream_failed", $"{what} answered {(int)response.StatusCode}: {text}");
        }
    }

    private async Task CancelAsync(Upstream decode, string requestId)
    {
        try
        {
            using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            using var _ = await _http.PostAsJsonAsync(decode.Url + "/internal/cancel", new CancelCall(requestId), OpenAiWriter.Json, bounded.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
        {
            // the decode instance is gone; its daemon released the lease with its session, or the lease expires
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        await _upstreams.DisposeAsync().ConfigureAwait(false);
        _http.Dispose();
        _metrics.Dispose();
    }

    private sealed class RequestState
    {
        public int PromptTokens;
        public PrefillAnswer? Push;
        public double? FirstTokenMs;
        public bool AnyFirstToken;
        public double ReserveMs;
        public double PrefillCallMs;
        public string? PrefillUrl;
        public string? DecodeUrl;
        public bool Failed;

        public object Extras() => new
        {
            kv_bytes = Push?.KvBytes ?? 0,
            transfer_ms = Push?.TransferMs ?? 0,
            prefill_ms = Push?.PrefillMs ?? 0,
            // Where choice 0's first token went, as the proxy saw it: the reserve round trip, the prefill round trip
            // (compute, then the part of the KV push not hidden by it), then the decode call until its first token.
            exposed_ms = Push?.ExposedMs ?? 0,
            reserve_ms = ReserveMs,
            prefill_call_ms = PrefillCallMs,
            decode_first_token_ms = FirstTokenMs is { } first ? first - ReserveMs - PrefillCallMs : 0,
            backend = Push?.Backend,
            prefill_node = Push?.Node,
            prefill_instance = PrefillUrl,
            decode_instance = DecodeUrl,
        };
    }

    [LoggerMessage(EventId = 400, Level = LogLevel.Information, Message = "proxy on http://{Address}: {Upstreams}")]
    private static partial void LogReady(ILogger logger, string address, string upstreams);
}
