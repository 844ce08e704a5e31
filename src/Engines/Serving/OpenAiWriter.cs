using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;
using PdRdma.Engines.Serving.Api;
using PdRdma.Transport;

namespace PdRdma.Engines.Serving;

/// <summary>
/// Writes a completion or chat completion as OpenAI does: JSON, or with stream=true SSE chunks, one per token,
/// flushed as soon as no further chunk is ready (a burst goes out in one write), then the finish chunk per choice, the usage chunk (stream_options.include_usage) and
/// `data: [DONE]`. Runs the n choices concurrently and applies stop strings (a matched stop cancels that choice's
/// generation). A failure before the first token is an HTTP error; after it an SSE error chunk ends the stream.
/// The colocated engine and the proxy both answer through here.
/// </summary>
public static class OpenAiWriter
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly record struct Event(int Index, string Text, string? Finish, int Tokens, Exception? Error);

    /// <summary>
    /// Answers <paramref name="request"/>; <paramref name="run"/>(choice, ct) generates one choice (cancelling ct must
    /// stop its work). <paramref name="promptTokens"/> is read once generation started.
    /// </summary>
    public static async Task RespondAsync(HttpContext http, OpenAiRequest request, string model, Func<int, CancellationToken, IAsyncEnumerable<ChoicePiece>> run,
        Func<int> promptTokens, Func<object?> extras, CancellationToken ct)
    {
        var id = (request.Chat ? "chatcmpl-" : "cmpl-") + Guid.NewGuid().ToString("N")[..24];
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var events = Channel.CreateUnbounded<Event>(new UnboundedChannelOptions { SingleReader = true });
        using var all = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var pumps = Enumerable.Range(0, request.N).Select(i => PumpAsync(i, request.Stop, run, events.Writer, all.Token)).ToArray();
        _ = Task.WhenAll(pumps).ContinueWith(_ => events.Writer.TryComplete(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        try
        {
            await WriteAsync(http, request, model, id, created, events.Reader, promptTokens, extras, ct).ConfigureAwait(false);
        }
        finally
        {
            all.Cancel();
            await Task.WhenAll(pumps).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private static async Task PumpAsync(int index, IReadOnlyList<string> stops, Func<int, CancellationToken, IAsyncEnumerable<ChoicePiece>> run,
        ChannelWriter<Event> events, CancellationToken ct)
    {
        await Task.Yield();
        var matcher = new StopMatcher(stops);
        try
        {
            await foreach (var piece in run(index, ct).WithCancellation(ct).ConfigureAwait(false))
            {
                if (piece.Finish is not null)
                {
                    var rest = matcher.Flush();
                    if (rest.Length > 0) events.TryWrite(new Event(index, rest, null, 0, null));
                    events.TryWrite(new Event(index, "", piece.Finish, 0, null));
                    return;
                }
                var ready = matcher.Push(piece.Text);
                events.TryWrite(new Event(index, ready, null, 1, null));
                if (matcher.Matched)
                {
                    // Leaving the loop disposes the generation, which cancels its engine work.
                    events.TryWrite(new Event(index, "", "stop", 0, null));
                    return;
                }
            }
            events.TryWrite(new Event(index, "", null, 0, new ServingException(502, "upstream_failed", "the generation ended without a finish reason")));
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            events.TryWrite(new Event(index, "", null, 0, e));
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task WriteAsync(HttpContext http, OpenAiRequest request, string model, string id, long created, ChannelReader<Event> events,
        Func<int> promptTokens, Func<object?> extras, CancellationToken ct)
    {
        var texts = Enumerable.Range(0, request.N).Select(_ => new StringBuilder()).ToArray();
        var finishes = new string?[request.N];
        var completionTokens = 0;
        var started = false;
        await foreach (var e in events.ReadAllAsync(ct).ConfigureAwait(false))
        {
            if (e.Error is not null)
            {
                if (!started || !request.Stream)
                {
                    await ErrorAsync(http, e.Error).ConfigureAwait(false);
                    return;
                }
                var error = Describe(e.Error);
                await ChunkAsync(http, new { error = ErrorBody(error) }, ct).ConfigureAwait(false);
                return;
            }
            if (request.Stream && !started)
            {
                http.Response.ContentType = "text/event-stream";
                http.Response.Headers.CacheControl = "no-cache";
                http.Response.Headers["X-Accel-Buffering"] = "no";
                if (request.Chat)
                {
                    for (var i = 0; i < request.N; i++)
                        await ChunkAsync(http, ChatChunk(id, created, model, i, new { role = "assistant", content = "" }, null), ct).ConfigureAwait(false);
                }
            }
            started = true;
            completionTokens += e.Tokens;
            if (e.Finish is not null) finishes[e.Index] = e.Finish;
            else texts[e.Index].Append(e.Text);
            if (!request.Stream) continue;
            if (e.Finish is not null)
            {
                var stats = e.Index == 0 ? extras() : null;
                object chunk = request.Chat ? ChatChunk(id, created, model, e.Index, new { }, e.Finish, stats) : TextChunk(id, created, model, e.Index, "", e.Finish, stats);
                await ChunkAsync(http, chunk, ct).ConfigureAwait(false);
            }
            else if (e.Text.Length > 0)
            {
                object chunk = request.Chat ? ChatChunk(id, created, model, e.Index, new { content = e.Text }, null) : TextChunk(id, created, model, e.Index, e.Text, null);
                await ChunkAsync(http, chunk, ct, flush: false).ConfigureAwait(false);
            }
            // One flush (one write to the socket) for every chunk that was ready together, not one per chunk.
            if (!events.TryPeek(out _)) await http.Response.Body.FlushAsync(ct).ConfigureAwait(false);
        }
        ct.ThrowIfCancellationRequested();
        var prompt = promptTokens();
        var usage = new { prompt_tokens = prompt, completion_tokens = completionTokens, total_tokens = prompt + completionTokens };
        if (request.Stream)
        {
            if (request.IncludeUsage)
            {
                await ChunkAsync(http, new Dictionary<string, object?>
                {
                    ["id"] = id, ["object"] = request.Chat ? "chat.completion.chunk" : "text_completion", ["created"] = created, ["model"] = model,
                    ["choices"] = Array.Empty<object>(), ["usage"] = usage,
                }, ct).ConfigureAwait(false);
            }
            await http.Response.WriteAsync("data: [DONE]\n\n", ct).ConfigureAwait(false);
            await http.Response.Body.FlushAsync(ct).ConfigureAwait(false);
            return;
        }
        object[] choices = request.Chat
            ? Enumerable.Range(0, request.N).Select(i => (object)new { index = i, message = new { role = "assistant", content = texts[i].ToString() }, finish_reason = finishes[i], logprobs = (object?)null }).ToArray()
            : Enumerable.Range(0, request.N).Select(i => (object)new { index = i, text = texts[i].ToString(), finish_reason = finishes[i], logprobs = (object?)null }).ToArray();
        var body = new Dictionary<string, object?>
        {
            ["id"] = id, ["object"] = request.Chat ? "chat.completion" : "text_completion", ["created"] = created, ["model"] = model,
            ["choices"] = choices, ["usage"] = usage, ["pdrdma"] = extras(),
        };
        await http.Response.WriteAsJsonAsync(body, Json, ct).ConfigureAwait(false);
    }

    private static Dictionary<string, object?> TextChunk(string id, long created, string model, int index, string text, string? finish, object? stats = null)
    {
        var chunk = new Dictionary<string, object?>
        {
            ["id"] = id, ["object"] = "text_completion", ["created"] = created, ["model"] = model,
            ["choices"] = new[] { new { index, text, finish_reason = finish, logprobs = (object?)null } },
        };
        if (stats is not null) chunk["pdrdma"] = stats;
        return chunk;
    }

    private static Dictionary<string, object?> ChatChunk(string id, long created, string model, int index, object delta, string? finish, object? stats = null)
    {
        var chunk = new Dictionary<string, object?>
        {
            ["id"] = id, ["object"] = "chat.completion.chunk", ["created"] = created, ["model"] = model,
            ["choices"] = new[] { new { index, delta, finish_reason = finish, logprobs = (object?)null } },
        };
        if (stats is not null) chunk["pdrdma"] = stats;
        return chunk;
    }

    private static async Task ChunkAsync(HttpContext http, object chunk, CancellationToken ct, bool flush = true)
    {
        await http.Response.WriteAsync("data: " + JsonSerializer.Serialize(chunk, Json) + "\n\n", ct).ConfigureAwait(false);
        if (flush) await http.Response.Body.FlushAsync(ct).ConfigureAwait(false);
    }

    public static ServingException Describe(Exception e) => e switch
    {
        ServingException s => s,
        TransferException { Code: TransferErrorCode.Timeout } t => new ServingException(504, "timeout", t.Message, t) { ErrorCode = "timeout" },
        TransferException { Code: TransferErrorCode.PoolFull } t => ServingException.Overloaded(t.Message, 1, t),
        TransferException t => new ServingException(502, "kv_transfer_failed", t.Message, t) { ErrorCode = "kv_transfer_failed" },
        TimeoutException or OperationCanceledException => new ServingException(504, "timeout", e.Message, e) { ErrorCode = "timeout" },
        HttpRequestException or IOException => new ServingException(502, "upstream_failed", e.Message, e) { ErrorCode = "upstream_failed" },
        ArgumentException a when a.GetType() == typeof(ArgumentException) => ServingException.Invalid(e.Message, null),
        _ => new ServingException(500, "server_error", e.GetType().Name + ": " + e.Message, e) { ErrorCode = "internal_error" },
    };

    /// <summary>The inside of {"error": ...}: message, type, param (or null), code (a string or null).</summary>
    public static object ErrorBody(ServingException error) => new Dictionary<string, object?>
    {
        ["message"] = error.Message, ["type"] = error.Type, ["param"] = error.Param, ["code"] = error.ErrorCode,
    };

    public static async Task ErrorAsync(HttpContext http, Exception e)
    {
        var error = Describe(e);
        if (http.Response.HasStarted) return;
        http.Response.StatusCode = error.Status;
        if (error.Status == 503) http.Response.Headers.RetryAfter = (error.RetryAfterSeconds ?? 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await http.Response.WriteAsJsonAsync(new { error = ErrorBody(error) }, Json).ConfigureAwait(false);
    }
}
