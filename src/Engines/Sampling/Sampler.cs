namespace PdRdma.Engines.Sampling;

/// <summary>
/// Exactly llama2.c's sampler (run.c sample / sample_mult / sample_topp) over float32 logits. One per sequence;
/// not thread-safe. The RNG state can be carried across processes with <see cref="RngState"/>.
/// </summary>
public sealed class Sampler
{
    private readonly XorShiftRng _rng;

    public Sampler(SamplingOptions options, ulong? rngState = null)
    {
        Options = options;
        _rng = new XorShiftRng(rngState ?? options.Seed);
    }

    public SamplingOptions Options { get; }

    public ulong RngState => _rng.State;

    /// <summary>Picks the next token; <paramref name="logits"/> is used as scratch and changed.</summary>
    public int Sample(Span<float> logits)
    {
        if (Options.Temperature == 0f) return ArgMax(logits);
        for (int i = 0; i < logits.Length; i++) logits[i] /= Options.Temperature;
        Softmax(logits);
        float coin = _rng.NextFloat();
        return Options.TopP <= 0 || Options.TopP >= 1 ? SampleMult(logits, coin) : SampleTopP(logits, Options.TopP, coin);
    }

    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        float max = values[0];
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > max)
            {
                max = values[i];
                best = i;
            }
        }
        return best;
    }

    private static void Softmax(Span<float> x)
    {
        float max = x[0];
        for (int i = 1; i < x.Length; i++) if (x[i] > max) max = x[i];
        float sum = 0f;
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = MathF.Exp(x[i] - max);
            sum += x[i];
        }
        for (int i = 0; i < x.Length; i++) x[i] /= sum;
    }

    private static int SampleMult(ReadOnlySpan<float> probabilities, float coin)
    {
        float cdf = 0f;
        for (int i = 0; i < probabilities.Length; i++)
        {
            cdf += probabilities[i];
            if (coin < cdf) return i;
        }
        return probabilities.Length - 1;
    }

    private static int SampleTopP(ReadOnlySpan<float> probabilities, float topp, float coin)
    {
        int n = probabilities.Length;
        float cutoff = (1.0f - topp) / (n - 1);
        var kept = new List<(int Index, float Prob)>();
        for (int i = 0; i < n; i++)
        {
            if (probabilities[i] >= cutoff) kept.Add((i, probabilities[i]));
        }
        // Stable descending sort (glibc's merge-sort qsort keeps equal probabilities in index order).
        var sorted = kept.OrderByDescending(p => p.Prob).ToList();
        float cumulative = 0f;
        int last = sorted.Count - 1;
        for (int i = 0; i < sorted.Count; i++)
        {
            cumulative += sorted[i].Prob;
            if (cumulative > topp)
            {
                last = i;
                break;
            }
        }
        float r = coin * cumulative;
        float cdf = 0f;
        for (int i = 0; i <= last; i++)
        {
            cdf += sorted[i].Prob;
            if (r < cdf) return sorted[i].Index;
        }
        return sorted[last].Index;
    }
}
