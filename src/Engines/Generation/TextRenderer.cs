using PdRdma.Engines.Tokenization;

namespace PdRdma.Engines.Generation;

/// <summary>Prints tokens the way llama2.c's run does: prompt pieces after BOS, then generated pieces, each decoded against the one before.</summary>
public static class TextRenderer
{
    public static byte[] Render(ITokenizer tokenizer, IReadOnlyList<int> prompt, IReadOnlyList<int> generated, bool finalNewline = true)
    {
        var output = new List<byte>();
        var all = prompt.Concat(generated).ToList();
        for (int i = 1; i < all.Count; i++) output.AddRange(tokenizer.DecodePiece(all[i - 1], all[i]));
        if (finalNewline) output.Add((byte)'\n');
        return [.. output];
    }
}
