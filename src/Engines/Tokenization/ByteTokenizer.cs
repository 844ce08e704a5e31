namespace PdRdma.Engines.Tokenization;

/// <summary>
/// A tokenizer without files for the built-in random model: 0 = unk, 1 = BOS, 2 = EOS, byte b = b + 3.
/// Ids past 258 (a larger model vocabulary) decode to nothing.
/// </summary>
public sealed class ByteTokenizer : ITokenizer
{
    public ByteTokenizer(int vocabSize = 259)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, 259);
        VocabSize = vocabSize;
        StopTokens = new HashSet<int> { BosId, EosId };
    }

    public int VocabSize { get; }

    public int BosId => 1;

    public int EosId => 2;

    public IReadOnlySet<int> StopTokens { get; }

    public int[] Encode(string text, bool bos = true, bool eos = false)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        var tokens = new List<int>(bytes.Length + 2);
        if (bos) tokens.Add(BosId);
        foreach (var b in bytes) tokens.Add(b + 3);
        if (eos) tokens.Add(EosId);
        return [.. tokens];
    }

    public byte[] DecodePiece(int previous, int token)
    {
        if (token < 3 || token > 258) return [];
        return PieceText.Safe([(byte)(token - 3)]);
    }
}
