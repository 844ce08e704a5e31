namespace PdRdma.Engines.Serving;

/// <summary>
/// Bounds on the work one request may cause, checked before the work starts: body and prompt size (before any
/// tokenising), choices per request, and the decode batch with its bounded wait queue.
/// </summary>
public sealed class ServingLimits
{
    /// <summary>Largest request body read (HTTP 413 above).</summary>
    public long MaxBodyBytes { get; init; } = 4 << 20;

    /// <summary>Largest prompt in UTF-8 bytes accepted for tokenising (HTTP 400 above).</summary>
    public int MaxPromptBytes { get; init; } = 1 << 20;

    /// <summary>Largest max_tokens.</summary>
    public int MaxTokens { get; init; } = 4096;

    /// <summary>Largest n (choices per request).</summary>
    public int MaxChoices { get; init; } = 16;

    /// <summary>Stop strings per request, and the longest one.</summary>
    public int MaxStopStrings { get; init; } = 4;
    public int MaxStopLength { get; init; } = 256;

    /// <summary>Sequences decoded together in one forward pass.</summary>
    public int MaxBatch { get; init; } = 64;

    /// <summary>Requests waiting for a batch slot or KV blocks; beyond it HTTP 503 with Retry-After.</summary>
    public int MaxQueue { get; init; } = 256;

    /// <summary>How long a request may wait in the queue before HTTP 503.</summary>
    public TimeSpan QueueTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The default limits.</summary>
    public static ServingLimits Default { get; } = new();
}
