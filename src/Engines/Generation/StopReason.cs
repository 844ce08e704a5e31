namespace PdRdma.Engines.Generation;

public enum StopReason
{
    /// <summary>The sampler produced a stop token (llama2.c: BOS), which is not part of the output.</summary>
    StopToken = 0,

    /// <summary>MaxNewTokens were produced.</summary>
    MaxTokens = 1,

    /// <summary>The model's context (max sequence length) is full.</summary>
    ContextFull = 2,
}
