using System.Text.Json;
using Microsoft.AspNetCore.Http;
using PdRdma.Transport;

namespace PdRdma.Engines.Serving;

/// <summary>
/// Writes a completion as OpenAI does: JSON, or with stream=true SSE `data:` chunks and `data: [DONE]`.
/// A failure before the first token is an HTTP error; after it, an SSE error chunk ends the stream (no [DONE]).
/// </summary>
public static class OpenAiWriter
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static async Task WriteAsync(HttpContext http, string model, bool stream, Func<int> promptTokens, IAsyncEnumerable<string> pieces,
        Func<object?> extras, CancellationToken ct)
    {
        var id = "cmpl-" + Guid.NewGuid().ToString("N")[..24];
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        await using var tokens = pieces.GetAsyncEnumerator(ct);
        bool any;
        try
        {
            any = await tokens.MoveNextAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            await ErrorAsync(http, e).ConfigureAwait(false);
            return;
        }
        var count = 0;
        var text = new System.Text.StringBuilder();
        if (stream)
        {
            http.Response.ContentType = "text/event-stream";
            http.Response.Headers.CacheControl = "no-cache";
        }
        string? failure = null;
        try
        {
            while (any)
            {
                count++;
                if (stream) await ChunkAsync(http, Chunk(id, created, model, tokens.Current), ct).ConfigureAwait(false);
                else text.Append(tokens.Current);
                any = await tokens.MoveNextAsync().ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            failure = Describe(e).Message;
            if (!stream)
            {
                await ErrorAsync(http, e).ConfigureAwait(false);
                return;
            }
        }
        var usage = new { prompt_tokens = promptTokens(), completion_tokens = count, total_tokens = promptTokens() + count };
        var choice = new { index = 0, text = stream ? "" : text.ToString(), finish_reason = "length", logprobs = (object?)null };
        var final = new Dictionary<string, object?>
        {
            ["id"] = id, ["object"] = "text_completion", ["created"] = created, ["model"] = model,
            ["choices"] = new[] { choice }, ["usage"] = usage, ["pdrdma"] = extras(),
        };
        if (!stream)
        {
            await http.Response.WriteAsJsonAsync(final, Json, ct).ConfigureAwait(false);
            return;
        }
        if (failure is not null)
        {
            await ChunkAsync(http, new { error = new { message = failure, type = "server_error", code = 502 } }, ct).ConfigureAwait(false);
            return;
        }
        await ChunkAsync(http, final, ct).ConfigureAwait(false);
        await http.Response.WriteAsync("data: [DONE]\n\n", ct).ConfigureAwait(false);
        await http.Response.Body.FlushAsync(ct).ConfigureAwait(false);
    }

    private static object Chunk(string id, long created, string model, string text) => new
    {
        id, @object = "text_completion", created, model,
        choices = new[] { new { index = 0, text, finish_reason = (string?)null, logprobs = (object?)null } },
    };

    private static async Task ChunkAsync(HttpContext http, object chunk, CancellationToken ct)
    {
        await http.Response.WriteAsync("data: " + JsonSerializer.Serialize(chunk, Json) + "\n\n", ct).ConfigureAwait(false);
        await http.Response.Body.FlushAsync(ct).ConfigureAwait(false);
    }

    public static ServingException Describe(Exception e) => e switch
    {
        ServingException s => s,
        TransferException { Code: TransferErrorCode.Timeout } t => new ServingException(504, "timeout", t.Message, t),
        TransferException { Code: TransferErrorCode.PoolFull } t => new ServingException(503, "overloaded", t.Message, t),
        TransferException t => new ServingException(502, "kv_transfer_failed", t.Message, t),
        TimeoutException or OperationCanceledException => new ServingException(504, "timeout", e.Message, e),
        HttpRequestException or IOException => new ServingException(502, "upstream_failed", e.Message, e),
        ArgumentException a when a.GetType() == typeof(ArgumentException) => new ServingException(400, "invalid_request_error", e.Message, e),
        _ => new ServingException(500, "server_error", e.GetType().Name + ": " + e.Message, e),
    };

    public static async Task ErrorAsync(HttpContext http, Exception e)
    {
        var error = Describe(e);
        if (http.Response.HasStarted) return;
        http.Response.StatusCode = error.Status;
        await http.Response.WriteAsJsonAsync(new { error = new { message = error.Message, type = error.Type, code = error.Status } }, Json).ConfigureAwait(false);
    }
}
