using System.Text;

namespace PdRdma.Engines.Serving;

/// <summary>
/// Checks a prompt against the model before and after tokenising: a lower bound on its token count from its size
/// refuses an over-long prompt without tokenising it, token ids must be in the vocabulary, and a prompt longer
/// than the context is refused (HTTP 400, code context_length_exceeded), never truncated. Colocated and decode
/// instances both check here, so the proxy relays the very answer a colocated server gives.
/// </summary>
public static class PromptGate
{
    public static int[] Tokens(IServingModel model, string? text, int[]? ids, string param = "prompt")
    {
        if (ids is not null)
        {
            for (var i = 0; i < ids.Length; i++)
            {
                if ((uint)ids[i] >= (uint)model.VocabSize)
                    throw ServingException.Invalid($"token id {ids[i]} (item {i}) is outside the model's vocabulary of {model.VocabSize}", param);
            }
            if (ids.Length > model.ContextLength) throw TooLong(model, ids.Length, exact: true, param);
            return ids;
        }
        text ??= "";
        // Every token stands for at most MaxTokenBytes bytes, plus BOS: a floor on the count without tokenising.
        var bytes = Encoding.UTF8.GetByteCount(text);
        var floor = 1 + (bytes + model.MaxTokenBytes - 1) / Math.Max(1, model.MaxTokenBytes);
        if (floor > model.ContextLength) throw TooLong(model, floor, exact: false, param);
        var tokens = model.Encode(text);
        if (tokens.Length > model.ContextLength) throw TooLong(model, tokens.Length, exact: true, param);
        return tokens;
    }

    private static ServingException TooLong(IServingModel model, int tokens, bool exact, string param) => ServingException.Invalid(
        $"This model's maximum context length is {model.ContextLength} tokens; the prompt has {(exact ? "" : "at least ")}{tokens} tokens. Shorten the prompt.",
        param, "context_length_exceeded");

    /// <summary>404 model_not_found unless <paramref name="requested"/> is empty or the served model.</summary>
    public static void CheckModel(string? requested, string served)
    {
        if (requested is { Length: > 0 } m && m != served)
            throw new ServingException(404, "invalid_request_error", $"The model '{m}' does not exist here; this server serves '{served}' (see /v1/models)")
            {
                Param = "model",
                ErrorCode = "model_not_found",
            };
    }

    /// <summary>The sampling of choice <paramref name="index"/>: greedy at temperature 0, else seeded (seed + index).</summary>
    public static Sampling.SamplingOptions Sampling(Api.OpenAiRequest request, int index, ulong randomSeed) => request.Temperature <= 0
        ? Engines.Sampling.SamplingOptions.Greedy
        : new Engines.Sampling.SamplingOptions(request.Temperature, request.TopP, unchecked((request.Seed ?? randomSeed) + (ulong)index));
}
