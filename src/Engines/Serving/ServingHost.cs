using OpenTelemetry.Metrics;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PdRdma.Daemon;
using PdRdma.Daemon.Observability;
using PdRdma.Engines.Serving.Api;
using PdRdma.Engines.Serving.Routing;
using PdRdma.Transport;
using System.Text;

namespace PdRdma.Engines.Serving;

/// <summary>
/// One serving instance: OpenAI-compatible HTTP (/v1/completions, /v1/models, /health, /metrics) for the
/// colocated role, and the internal endpoints the proxy drives for the prefill and decode roles.
/// </summary>
public sealed partial class ServingHost : IAsyncDisposable
{
    private readonly ServeOptions _options;
    private readonly IServingModel _model;
    private readonly KvChannel? _channel;
    private readonly ServingMetrics _metrics;
    private readonly ILogger _log;
    private readonly PrefillPush? _push;
    private readonly DecodeSide? _decode;
    private readonly WebApplication _app;
    private InstanceAnnouncer? _announcer;

    private ServingHost(ServeOptions options, IServingModel model, KvChannel? channel, WebApplication app)
    {
        _options = options;
        _model = model;
        _channel = channel;
        _app = app;
        _metrics = new ServingMetrics(options.Role);
        _log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("PdRdma.Serving");
        if (channel is not null && options.Role == "prefill") _push = new PrefillPush(model, channel) { LayerDelayMs = options.LayerDelayMs };
        if (channel is not null && options.Role == "decode")
        {
            _decode = new DecodeSide(model, channel, TimeSpan.FromSeconds(options.LeaseTtlSeconds), options.Limits);
            _decode.Freed += (request, reason) => LogReservationFreed(_log, request, reason);
        }
    }

    public static async Task<ServingHost> StartAsync(ServeOptions options, CancellationToken ct)
    {
        if (options.Role is not ("prefill" or "decode" or "colocated"))
            throw new ArgumentException($"--role '{options.Role}' is unknown: use prefill, decode or colocated");
        // --role prefill|decode on cuda: the daemon's backends move host memory, so the channel stages the device pool
        // through a host mirror (KvStaging); a pool it cannot stage is refused there, typed.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower);
        builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddMeter("PdRdma.*").AddPrometheusExporter(o => { o.ScrapeResponseCacheDurationMilliseconds = 0; o.ScopeInfoEnabled = false; o.TargetInfoEnabled = false; }));
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Parse(options.Host), options.Port);
            k.Limits.MaxRequestBodySize = options.Limits.MaxBodyBytes;
        });
        var app = builder.Build();
        var loggers = app.Services.GetRequiredService<ILoggerFactory>();

        // Pools of engines that died by SIGKILL stay in /dev/shm: the next engine to start removes them.
        var swept = Kv.StaleRegions.Sweep();
        var model = ModelCatalog.Open(options.Model, options.Device, options.Limits);
        KvChannel? channel = null;
        try
        {
            if (options.Role != "colocated")
            {
                if (options.Daemon is { Length: > 0 } socket)
                {
                    channel = KvChannel.ThroughDaemon(socket);
                }
                else
                {
                    var secret = options.SecretFile is { } file ? await File.ReadAllBytesAsync(file, ct).ConfigureAwait(false)
                        : throw new ArgumentException("without --daemon, the transfer library runs in this process and needs --secret-file (the cluster secret)");
                    channel = await KvChannel.InProcessAsync(options.NodeId ?? $"{options.Role}-{Environment.ProcessId}", options.PeerListen, options.Advertise, secret, loggers, "auto", ct).ConfigureAwait(false);
                }
                channel.StageHostPool = options.StageKv;
                await channel.RegisterPoolAsync(model, $"{options.Role}-{Environment.ProcessId}", ct).ConfigureAwait(false);
            }
            var host = new ServingHost(options, model, channel, app);
            if (swept > 0) LogSwept(host._log, swept);
            host.Map();
            await app.StartAsync(ct).ConfigureAwait(false);
            if (options.Etcd.Enabled) host._announcer = await host.AnnounceAsync(ct).ConfigureAwait(false);
            LogReady(host._log, options.Role, options.Model, $"{options.Host}:{options.Port}", channel?.Mode ?? "none", channel?.NodeId ?? "-", channel?.PeerEndpoint ?? "-");
            if (channel?.StagingMirror is { } mirror) LogStaged(host._log, options.Device.ToString(), mirror.SharedPath ?? "-", mirror.Length >> 20);
            return host;
        }
        catch
        {
            if (channel is not null) await channel.DisposeAsync().ConfigureAwait(false);
            model.Dispose();
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public Task WaitForShutdownAsync(CancellationToken ct) => _app.WaitForShutdownAsync(ct);

    private Task<InstanceAnnouncer> AnnounceAsync(CancellationToken ct)
    {
        var url = (_options.AdvertiseUrl ?? $"http://{_options.Host}:{_options.Port}").TrimEnd('/');
        return InstanceAnnouncer.StartAsync(_options.Etcd, _options.Role, InstanceAnnouncer.InstanceId(_options.Role, url), () => new Daemon.Discovery.InstanceRecord
        {
            Role = _options.Role, Model = _model.Name, Url = url, Node = _channel?.NodeId ?? "",
            QueueDepth = _metrics.InFlight, FreeBlocks = _model.FreeBlocks, Running = _model.Running,
        }, _log, ct);
    }

        private NodeInfo Info => new(_options.Role, _model.Name, _channel?.NodeId ?? "", _channel?.PeerEndpoint ?? "", _channel?.Mode ?? "none", _model.ContextLength);

    private void Map()
    {
        _app.MapGet("/health", () => Results.Json(new
        {
            status = "ok",
            role = _options.Role,
            model = _model.Name,
            in_flight = _metrics.InFlight,
            node = _channel?.NodeId,
            mode = _channel?.Mode,
            kv_staged = _channel?.StagingMirror is not null,
            reservations = _decode?.Reservations ?? 0,
            free_blocks = _model.FreeBlocks,
            running = _model.Running,
            queued = _model.Queued,
            directory = _announcer?.Health,
        }));
        _app.MapGet("/v1/models", () => Results.Json(new { @object = "list", data = new[] { new { id = _model.Name, @object = "model", owned_by = "pdrdma", created = 0 } } }));
        _app.MapPrometheusScrapingEndpoint("/metrics");
        _app.MapGet("/internal/info", () => Results.Json(Info, OpenAiWriter.Json));
        switch (_options.Role)
        {
            case "colocated":
                _app.MapPost("/v1/completions", http => CompleteAsync(http, chat: false));
                _app.MapPost("/v1/chat/completions", http => CompleteAsync(http, chat: true));
                break;
            case "prefill":
                _app.MapPost("/internal/prefill", PrefillAsync);
                break;
            case "decode":
                _app.MapPost("/internal/reserve", ReserveAsync);
                _app.MapPost("/internal/decode", DecodeAsync);
                _app.MapPost("/internal/cancel", CancelAsync);
                break;
        }
    }

    private static async Task<T> ReadAsync<T>(HttpContext http)
    {
        try
        {
            return await http.Request.ReadFromJsonAsync<T>(OpenAiWriter.Json, http.RequestAborted).ConfigureAwait(false)
                ?? throw new ArgumentException("empty request body");
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"malformed request body: {e.Message}", e);
        }
        catch (InvalidOperationException e)
        {
            throw new ServingException(415, "invalid_request_error", e.Message, e) { ErrorCode = "unsupported_media_type" };
        }
    }

    private async Task CompleteAsync(HttpContext http, bool chat)
    {
        using var _ = _metrics.Track();
        OpenAiRequest request;
        int[] tokens;
        try
        {
            request = await OpenAiRequestParser.ReadAsync(http, chat, _options.Limits).ConfigureAwait(false);
            PromptGate.CheckModel(request.Model, _model.Name);
            tokens = PromptGate.Tokens(_model, request.PromptText, request.PromptTokens, chat ? "messages" : "prompt");
        }
        catch (Exception e)
        {
            _metrics.Request("refused");
            await OpenAiWriter.ErrorAsync(http, e).ConfigureAwait(false);
            return;
        }
        var clock = Stopwatch.StartNew();
        var seed = (ulong)Random.Shared.NextInt64();
        try
        {
            await OpenAiWriter.RespondAsync(http, request, _model.Name,
                (choice, ct) => GenerateAsync(tokens, new GenerationSettings(request.MaxTokens, PromptGate.Sampling(request, choice, seed)), clock, ct),
                () => tokens.Length, () => new { role = "colocated" }, http.RequestAborted).ConfigureAwait(false);
            _metrics.Request("ok");
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            _metrics.Request("abandoned");
        }
    }

    private async IAsyncEnumerable<ChoicePiece> GenerateAsync(int[] tokens, GenerationSettings settings, Stopwatch clock, [EnumeratorCancellation] CancellationToken ct)
    {
        var produced = 0;
        var previous = tokens.Length > 0 ? tokens[^1] : -1;
        try
        {
            await foreach (var step in _model.GenerateAsync(tokens, settings, ct).ConfigureAwait(false))
            {
                if (step.IsEnd)
                {
                    yield return new ChoicePiece("", step.Finish);
                    yield break;
                }
                if (produced++ == 0) _metrics.FirstToken(clock.Elapsed);
                yield return new ChoicePiece(_model.TokenText(previous, step.Token));
                previous = step.Token;
            }
        }
        finally
        {
            _metrics.Tokens(produced);
        }
    }

    private async Task PrefillAsync(HttpContext http)
    {
        using var _ = _metrics.Track();
        try
        {
            var call = await ReadAsync<PrefillCall>(http).ConfigureAwait(false);
            var answer = await _push!.RunAsync(call, overlap: true, http.RequestAborted).ConfigureAwait(false);
            _metrics.KvBytes(answer.KvBytes, answer.Backend);
            _metrics.Request("ok");
            await http.Response.WriteAsJsonAsync(answer, OpenAiWriter.Json, http.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _metrics.Request("error");
            LogRequestFailed(_log, "prefill", e.Message);
            await OpenAiWriter.ErrorAsync(http, e).ConfigureAwait(false);
        }
    }

    private async Task ReserveAsync(HttpContext http)
    {
        try
        {
            var call = await ReadAsync<ReserveCall>(http).ConfigureAwait(false);
            var answer = await _decode!.ReserveAsync(call, http.RequestAborted).ConfigureAwait(false);
            await http.Response.WriteAsJsonAsync(answer, OpenAiWriter.Json, http.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            LogRequestFailed(_log, "reserve", e.Message);
            await OpenAiWriter.ErrorAsync(http, e).ConfigureAwait(false);
        }
    }

    private async Task DecodeAsync(HttpContext http)
    {
        using var _ = _metrics.Track();
        DecodeCall call;
        try
        {
            call = await ReadAsync<DecodeCall>(http).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            await OpenAiWriter.ErrorAsync(http, e).ConfigureAwait(false);
            return;
        }
        http.Response.ContentType = "text/event-stream";
        var produced = 0;
        try
        {
            var previous = call.Tokens.Length > 0 ? call.Tokens[^1] : -1;
            await foreach (var step in _decode!.DecodeAsync(call, http.RequestAborted).ConfigureAwait(false))
            {
                if (step.IsEnd)
                {
                    await EventAsync(http, new TokenEvent(Done: true, FinishReason: step.Finish)).ConfigureAwait(false);
                    break;
                }
                produced++;
                await EventAsync(http, new TokenEvent(step.Token, _model.TokenText(previous, step.Token))).ConfigureAwait(false);
                previous = step.Token;
            }
            _metrics.Request("ok");
        }
        catch (Exception e) when (!http.RequestAborted.IsCancellationRequested)
        {
            _metrics.Request("error");
            LogRequestFailed(_log, "decode", e.Message);
            await EventAsync(http, new TokenEvent(Error: OpenAiWriter.Describe(e).Message)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        finally
        {
            _metrics.Tokens(produced);
        }
    }

    private static async Task EventAsync(HttpContext http, TokenEvent e)
    {
        await http.Response.WriteAsync("data: " + JsonSerializer.Serialize(e, OpenAiWriter.Json) + "\n\n", http.RequestAborted).ConfigureAwait(false);
        await http.Response.Body.FlushAsync(http.RequestAborted).ConfigureAwait(false);
    }

    private async Task CancelAsync(HttpContext http)
    {
        var call = await ReadAsync<CancelCall>(http).ConfigureAwait(false);
        var found = await _decode!.CancelAsync(call.RequestId).ConfigureAwait(false);
        await http.Response.WriteAsJsonAsync(new { cancelled = found }).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        // Leave the directory first: proxies stop sending new requests before this instance stops answering.
        if (_announcer is not null) await _announcer.DisposeAsync().ConfigureAwait(false);
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        if (_channel is not null) await _channel.DisposeAsync().ConfigureAwait(false);
        _model.Dispose();
        _metrics.Dispose();
    }

        [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "serving {Role} of model {Model} on http://{Address} (kv path: {Mode}, node {Node}, peers at {PeerEndpoint})")]
    private static partial void LogReady(ILogger logger, string role, string model, string address, string mode, string node, string peerEndpoint);

    [LoggerMessage(EventId = 301, Level = LogLevel.Warning, Message = "{Stage} failed: {Reason}")]
    private static partial void LogRequestFailed(ILogger logger, string stage, string reason);

    [LoggerMessage(EventId = 304, Level = LogLevel.Information, Message = "KV pool on {Device} is host-staged for the node daemon through {Mirror} ({MiB} MiB): prefill copies each layer's blocks out before its push, decode copies granted blocks in when they arrive")]
    private static partial void LogStaged(ILogger logger, string device, string mirror, long miB);

    [LoggerMessage(EventId = 303, Level = LogLevel.Information, Message = "removed {Count} shared-memory pool files left by engines that were killed")]
    private static partial void LogSwept(ILogger logger, int count);

    [LoggerMessage(EventId = 302, Level = LogLevel.Debug, Message = "reservation of {RequestId} freed: {Reason}")]
    private static partial void LogReservationFreed(ILogger logger, string requestId, string reason);
}
