using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using PdRdma.Engines.Serving.Api;

namespace PdRdma.Engines.Serving;

/// <summary>
/// Turns an OpenAI request body into an <see cref="OpenAiRequest"/>, refusing what PdRdma cannot honour with a 400
/// that names the field (never ignoring it silently). Size limits are checked before anything is tokenised.
/// Colocated engines and the proxy parse with this same code, so both answer every input alike.
/// </summary>
public static class OpenAiRequestParser
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 16 };

    /// <summary>Plain chat template for models without one: the message contents, one per line.</summary>
    public static string PlainTemplate(IEnumerable<string> contents) => string.Join("\n", contents);

    /// <summary>
    /// Reads and parses the body of <paramref name="http"/>: 415 unless it is JSON, 413 above
    /// <see cref="ServingLimits.MaxBodyBytes"/> (read no further), 400 for anything malformed.
    /// </summary>
    public static async Task<OpenAiRequest> ReadAsync(HttpContext http, bool chat, ServingLimits limits)
    {
        var type = http.Request.ContentType;
        if (type is null || !(type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) || type.Contains("+json", StringComparison.OrdinalIgnoreCase)))
            throw new ServingException(415, "invalid_request_error", $"Content-Type must be application/json, got '{type ?? "none"}'") { ErrorCode = "unsupported_media_type" };
        if (http.Request.ContentLength > limits.MaxBodyBytes) throw TooLarge(limits);
        using var buffer = new MemoryStream();
        var chunk = new byte[16384];
        while (true)
        {
            int read;
            try
            {
                read = await http.Request.Body.ReadAsync(chunk, http.RequestAborted).ConfigureAwait(false);
            }
            catch (BadHttpRequestException e)
            {
                throw new ServingException(e.StatusCode, "invalid_request_error", e.Message, e) { ErrorCode = "bad_request" };
            }
            if (read == 0) break;
            if (buffer.Length + read > limits.MaxBodyBytes) throw TooLarge(limits);
            buffer.Write(chunk, 0, read);
        }
        return Parse(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), chat, limits);
    }

    private static ServingException TooLarge(ServingLimits limits) =>
        new(413, "invalid_request_error", $"the request body is larger than {limits.MaxBodyBytes} bytes") { ErrorCode = "request_too_large" };

    public static OpenAiRequest Parse(ReadOnlySpan<byte> body, bool chat, ServingLimits limits)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body.ToArray(), DocumentOptions);
        }
        catch (JsonException e)
        {
            throw ServingException.Invalid($"the request body is not valid JSON: {e.Message}", null, "invalid_json");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw ServingException.Invalid("the request body must be a JSON object", null, "invalid_json");
            return chat ? ParseChat(root, limits) : ParseCompletion(root, limits);
        }
    }

    private static OpenAiRequest ParseCompletion(JsonElement root, ServingLimits limits)
    {
        if (!root.TryGetProperty("prompt", out var prompt) || prompt.ValueKind == JsonValueKind.Null)
            throw ServingException.Invalid("'prompt' is required", "prompt", "missing_required_parameter");
        string? text = null;
        int[]? tokens = null;
        switch (prompt.ValueKind)
        {
            case JsonValueKind.String:
                text = prompt.GetString()!;
                break;
            case JsonValueKind.Array:
                var items = prompt.EnumerateArray().ToList();
                if (items.Count == 0) throw ServingException.Invalid("'prompt' is an empty list", "prompt");
                if (items.All(i => i.ValueKind == JsonValueKind.Number)) tokens = TokenIds(prompt, limits);
                else if (items.Count == 1 && items[0].ValueKind == JsonValueKind.String) text = items[0].GetString()!;
                else if (items.Count == 1 && items[0].ValueKind == JsonValueKind.Array) tokens = TokenIds(items[0], limits);
                else throw ServingException.Invalid("'prompt' must be a string, one string in a list, or token ids; batched prompts are not supported (send one request each)", "prompt");
                break;
            default:
                throw ServingException.Invalid("'prompt' must be a string or a list of token ids", "prompt");
        }
        if (Flag(root, "echo")) throw ServingException.Invalid("'echo' is not supported", "echo", "unsupported_parameter");
        if (root.TryGetProperty("logprobs", out var logprobs) && logprobs.ValueKind is not (JsonValueKind.Null or JsonValueKind.False))
            throw ServingException.Invalid("'logprobs' is not supported", "logprobs", "unsupported_parameter");
        if (root.TryGetProperty("suffix", out var suffix) && suffix.ValueKind != JsonValueKind.Null)
            throw ServingException.Invalid("'suffix' is not supported", "suffix", "unsupported_parameter");
        if ((OptionalInt(root, "best_of", 1, int.MaxValue) ?? 1) != 1) throw ServingException.Invalid("'best_of' other than 1 is not supported", "best_of", "unsupported_parameter");
        CheckPromptSize(text, limits);
        return Common(root, limits) with { Chat = false, PromptText = text, PromptTokens = tokens };
    }

    private static OpenAiRequest ParseChat(JsonElement root, ServingLimits limits)
    {
        if (!root.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array)
            throw ServingException.Invalid("'messages' is required and must be a list", "messages", "missing_required_parameter");
        var contents = new List<string>();
        var index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            var param = $"messages[{index++}]";
            if (message.ValueKind != JsonValueKind.Object) throw ServingException.Invalid($"{param} must be an object", param);
            if (!message.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String)
                throw ServingException.Invalid($"{param}.role is required", param + ".role");
            if (role.GetString() is not ("system" or "developer" or "user" or "assistant"))
                throw ServingException.Invalid($"{param}.role '{role.GetString()}' is not supported (system, developer, user, assistant)", param + ".role");
            if (!message.TryGetProperty("content", out var content)) throw ServingException.Invalid($"{param}.content is required", param + ".content");
            switch (content.ValueKind)
            {
                case JsonValueKind.String:
                    contents.Add(content.GetString()!);
                    break;
                case JsonValueKind.Array:
                    var parts = new StringBuilder();
                    foreach (var part in content.EnumerateArray())
                    {
                        if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || type.GetString() != "text"
                            || !part.TryGetProperty("text", out var partText) || partText.ValueKind != JsonValueKind.String)
                            throw ServingException.Invalid($"{param}.content: only text parts are supported", param + ".content");
                        parts.Append(partText.GetString());
                    }
                    contents.Add(parts.ToString());
                    break;
                default:
                    throw ServingException.Invalid($"{param}.content must be a string or a list of text parts", param + ".content");
            }
        }
        if (contents.Count == 0) throw ServingException.Invalid("'messages' is empty", "messages");
        if (Flag(root, "logprobs")) throw ServingException.Invalid("'logprobs' is not supported", "logprobs", "unsupported_parameter");
        foreach (var unsupported in new[] { "tools", "functions", "tool_choice", "function_call" })
        {
            if (root.TryGetProperty(unsupported, out var value) && value.ValueKind != JsonValueKind.Null)
                throw ServingException.Invalid($"'{unsupported}' is not supported", unsupported, "unsupported_parameter");
        }
        if (root.TryGetProperty("response_format", out var format) && format.ValueKind == JsonValueKind.Object
            && format.TryGetProperty("type", out var formatType) && formatType.GetString() != "text")
            throw ServingException.Invalid("only response_format {\"type\":\"text\"} is supported", "response_format", "unsupported_parameter");
        var text = PlainTemplate(contents);
        CheckPromptSize(text, limits);
        var common = Common(root, limits);
        var maxCompletion = OptionalInt(root, "max_completion_tokens", 1, limits.MaxTokens);
        return common with { Chat = true, PromptText = text, MaxTokens = maxCompletion ?? common.MaxTokens };
    }

    private static OpenAiRequest Common(JsonElement root, ServingLimits limits)
    {
        string? model = null;
        if (root.TryGetProperty("model", out var m) && m.ValueKind != JsonValueKind.Null)
            model = m.ValueKind == JsonValueKind.String ? m.GetString() : throw ServingException.Invalid("'model' must be a string", "model");
        var maxTokens = OptionalInt(root, "max_tokens", 1, limits.MaxTokens) ?? 16;
        var stream = Flag(root, "stream");
        var includeUsage = false;
        if (root.TryGetProperty("stream_options", out var options) && options.ValueKind != JsonValueKind.Null)
        {
            if (options.ValueKind != JsonValueKind.Object) throw ServingException.Invalid("'stream_options' must be an object", "stream_options");
            if (!stream) throw ServingException.Invalid("'stream_options' is only allowed when 'stream' is true", "stream_options");
            includeUsage = Flag(options, "include_usage", "stream_options.include_usage");
        }
        var temperature = OptionalNumber(root, "temperature", 0, 2) ?? 1.0;
        var topP = OptionalNumber(root, "top_p", 0, 1) ?? 1.0;
        if (topP <= 0) throw ServingException.Invalid("'top_p' must be in (0, 1]", "top_p");
        foreach (var penalty in new[] { "presence_penalty", "frequency_penalty" })
        {
            if ((OptionalNumber(root, penalty, -2, 2) ?? 0) != 0) throw ServingException.Invalid($"'{penalty}' other than 0 is not supported", penalty, "unsupported_parameter");
        }
        if (root.TryGetProperty("logit_bias", out var bias) && bias.ValueKind == JsonValueKind.Object && bias.EnumerateObject().Any())
            throw ServingException.Invalid("'logit_bias' is not supported", "logit_bias", "unsupported_parameter");
        ulong? seed = null;
        if (root.TryGetProperty("seed", out var s) && s.ValueKind != JsonValueKind.Null)
        {
            if (s.ValueKind != JsonValueKind.Number || !s.TryGetInt64(out var value)) throw ServingException.Invalid("'seed' must be an integer", "seed");
            seed = unchecked((ulong)value);
        }
        var n = OptionalInt(root, "n", 1, limits.MaxChoices) ?? 1;
        return new OpenAiRequest
        {
            Model = model, MaxTokens = maxTokens, Stream = stream, IncludeUsage = includeUsage,
            Temperature = (float)temperature, TopP = (float)topP, Seed = seed, N = n, Stop = Stops(root, limits),
        };
    }

    private static IReadOnlyList<string> Stops(JsonElement root, ServingLimits limits)
    {
        if (!root.TryGetProperty("stop", out var stop) || stop.ValueKind == JsonValueKind.Null) return [];
        List<string> stops;
        if (stop.ValueKind == JsonValueKind.String) stops = [stop.GetString()!];
        else if (stop.ValueKind == JsonValueKind.Array && stop.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String))
            stops = stop.EnumerateArray().Select(e => e.GetString()!).ToList();
        else throw ServingException.Invalid("'stop' must be a string or a list of strings", "stop");
        if (stops.Count > limits.MaxStopStrings) throw ServingException.Invalid($"'stop' has {stops.Count} strings; at most {limits.MaxStopStrings}", "stop");
        if (stops.Any(x => x.Length == 0 || x.Length > limits.MaxStopLength))
            throw ServingException.Invalid($"every 'stop' string must have 1 to {limits.MaxStopLength} characters", "stop");
        return stops;
    }

    private static int[] TokenIds(JsonElement array, ServingLimits limits)
    {
        var count = array.GetArrayLength();
        if (count == 0) throw ServingException.Invalid("'prompt' has no token ids", "prompt");
        if (count > limits.MaxPromptBytes) throw ServingException.Invalid($"'prompt' has {count} token ids; at most {limits.MaxPromptBytes}", "prompt", "prompt_too_long");
        var ids = new int[count];
        var i = 0;
        foreach (var e in array.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out ids[i]) || ids[i] < 0)
                throw ServingException.Invalid($"'prompt' token ids must be non-negative integers (item {i})", "prompt");
            i++;
        }
        return ids;
    }

    private static void CheckPromptSize(string? text, ServingLimits limits)
    {
        // Counted before tokenising: the tokeniser never sees a prompt above the limit.
        if (text is not null && text.Length > limits.MaxPromptBytes || text is not null && Encoding.UTF8.GetByteCount(text) > limits.MaxPromptBytes)
            throw ServingException.Invalid($"the prompt is larger than {limits.MaxPromptBytes} bytes", "prompt", "prompt_too_long");
    }

    private static bool Flag(JsonElement root, string name, string? param = null)
    {
        if (!root.TryGetProperty(name, out var value)) return false;
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False or JsonValueKind.Null => false,
            _ => throw ServingException.Invalid($"'{param ?? name}' must be a boolean", param ?? name),
        };
    }

    private static int? OptionalInt(JsonElement root, string name, int min, int max)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var v))
            throw ServingException.Invalid($"'{name}' must be an integer", name);
        if (v < min || v > max) throw ServingException.Invalid($"'{name}' must be in [{min}, {max}], got {v}", name);
        return (int)v;
    }

    private static double? OptionalNumber(JsonElement root, string name, double min, double max)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var v) || double.IsNaN(v))
            throw ServingException.Invalid($"'{name}' must be a number", name);
        if (v < min || v > max) throw ServingException.Invalid($"'{name}' must be in [{min}, {max}], got {v}", name);
        return v;
    }
}
