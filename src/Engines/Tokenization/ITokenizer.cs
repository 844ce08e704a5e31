namespace PdRdma.Engines.Tokenization;

/// <summary>Text to token ids and back. Implementations are immutable and thread-safe.</summary>
public interface ITokenizer
{
    int VocabSize { get; }

    int BosId { get; }

    int EosId { get; }

    /// <summary>Sampled tokens that end a generation without being printed (llama2.c: BOS).</summary>
    IReadOnlySet<int> StopTokens { get; }

    /// <summary>Encodes <paramref name="text"/>, starting with BOS when <paramref name="bos"/> is set.</summary>
    int[] Encode(string text, bool bos = true, bool eos = false);

    /// <summary>The bytes to print for <paramref name="token"/> following <paramref name="previous"/> (llama2.c's decode + safe_printf).</summary>
    byte[] DecodePiece(int previous, int token);
}
