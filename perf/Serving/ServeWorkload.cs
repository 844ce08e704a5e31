namespace PdRdma.Perf.Serving;

/// <summary>
/// The benchmark's requests: prompts cut from a text (TinyStories-like for stories260K) with lengths from the
/// configured distribution, and max_tokens per request. Deterministic for a seed.
/// </summary>
public sealed class ServeWorkload
{
    private ServeWorkload(IReadOnlyList<(string Prompt, int MaxTokens)> requests) => Requests = requests;

    public IReadOnlyList<(string Prompt, int MaxTokens)> Requests { get; }

    public static ServeWorkload Create(ServeBenchOptions options, string corpus, int count)
    {
        var words = corpus.Split((char[])[' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (words.Length < options.PromptWordsMax) words = Enumerable.Repeat(words, options.PromptWordsMax / Math.Max(1, words.Length) + 2).SelectMany(w => w).ToArray();
        var random = new Random(options.Seed);
        var requests = new List<(string, int)>(count);
        for (int i = 0; i < count; i++)
        {
            int length = random.Next(options.PromptWordsMin, options.PromptWordsMax + 1);
            int start = random.Next(0, words.Length - length + 1);
            requests.Add((string.Join(' ', words, start, length), random.Next(options.OutputTokensMin, options.OutputTokensMax + 1)));
        }
        return new ServeWorkload(requests);
    }
}
