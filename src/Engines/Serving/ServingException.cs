namespace PdRdma.Engines.Serving;

/// <summary>
/// A request failure with what the client receives: the HTTP status and the OpenAI error object
/// {"error":{"message","type","param","code"}} (param: the offending field or null; code: a string or null).
/// </summary>
public sealed class ServingException(int status, string type, string message, Exception? inner = null) : Exception(message, inner)
{
    public int Status { get; } = status;

    public string Type { get; } = type;

    /// <summary>The request field at fault, or null.</summary>
    public string? Param { get; init; }

    /// <summary>A machine-readable code (e.g. "context_length_exceeded"), or null.</summary>
    public string? ErrorCode { get; init; }

    /// <summary>Seconds a client should wait before retrying (sent as Retry-After with 503), or null.</summary>
    public int? RetryAfterSeconds { get; init; }

    /// <summary>A 400 invalid_request_error naming <paramref name="param"/>.</summary>
    public static ServingException Invalid(string message, string? param, string? code = null) =>
        new(400, "invalid_request_error", message) { Param = param, ErrorCode = code };

    /// <summary>A 503 the client should retry after <paramref name="seconds"/>.</summary>
    public static ServingException Overloaded(string message, int seconds = 1, Exception? inner = null) =>
        new(503, "server_overloaded", message, inner) { ErrorCode = "server_overloaded", RetryAfterSeconds = seconds };
}
