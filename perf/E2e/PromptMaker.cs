namespace PdRdma.Perf.E2e;

/// <summary>
/// Deterministic prompts of a given length: both processes of a disaggregated run make the same tokens from the same
/// seed, so only the seed crosses between them. Token ids avoid 0-2 (unknown, BOS, EOS in llama2.c vocabularies).
/// </summary>
public static class PromptMaker
{
    public static int[] Make(int seed, int length, int vocabSize)
    {
        var random = new Random(seed);
        var tokens = new int[length];
        tokens[0] = 1; // BOS, as a real prompt starts
        for (var i = 1; i < length; i++) tokens[i] = random.Next(3, vocabSize);
        return tokens;
    }
}
