using System.Text;
using PdRdma.Engines.Loading;

namespace PdRdma.Engines.Tokenization;

/// <summary>
/// llama2.c's tokenizer.bin: pieces with merge scores; encode = BOS, dummy " " prefix, code points with byte
/// fallback (byte b → token b+3), then greedy merging of the best-scoring adjacent pair (run.c encode).
/// </summary>
public sealed class Llama2cTokenizer : ITokenizer
{
    private readonly byte[][] _pieces;
    private readonly float[] _scores;
    private readonly Dictionary<string, int> _lookup;

    private Llama2cTokenizer(byte[][] pieces, float[] scores, int maxTokenLength)
    {
        _pieces = pieces;
        _scores = scores;
        MaxTokenLength = maxTokenLength;
        _lookup = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < pieces.Length; i++) _lookup.TryAdd(Encoding.Latin1.GetString(pieces[i]), i);
        StopTokens = new HashSet<int> { BosId };
    }

    public int VocabSize => _pieces.Length;

    public int BosId => 1;

    public int EosId => 2;

    public int MaxTokenLength { get; }

    public IReadOnlySet<int> StopTokens { get; }

    public ReadOnlySpan<byte> Piece(int id) => _pieces[id];

    public float Score(int id) => _scores[id];

    /// <summary>Reads a tokenizer.bin with <paramref name="vocabSize"/> entries (the count comes from the model header).</summary>
    public static Llama2cTokenizer Load(string path, int vocabSize)
    {
        if (!File.Exists(path)) throw new ModelLoadException(path, "file", "tokenizer file not found (pass --tokenizer or put tok<vocab>.bin / tokenizer.bin beside the model)");
        var data = File.ReadAllBytes(path);
        int offset = 0;
        int maxLen = ReadInt(data, ref offset, path, "max_token_length");
        if (maxLen <= 0) throw new ModelLoadException(path, "max_token_length", $"must be positive, is {maxLen}");
        var pieces = new byte[vocabSize][];
        var scores = new float[vocabSize];
        for (int i = 0; i < vocabSize; i++)
        {
            scores[i] = BitConverter.Int32BitsToSingle(ReadInt(data, ref offset, path, $"score of token {i}"));
            int len = ReadInt(data, ref offset, path, $"length of token {i}");
            if (len < 0 || len > data.Length - offset)
            {
                throw new ModelLoadException(path, $"bytes of token {i}", $"length {len} runs past the end of the file ({data.Length} bytes)");
            }
            pieces[i] = data.AsSpan(offset, len).ToArray();
            offset += len;
        }
        return new Llama2cTokenizer(pieces, scores, maxLen);
    }

    public int[] Encode(string text, bool bos = true, bool eos = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = new List<int>();
        if (bos) tokens.Add(BosId);
        if (text.Length > 0 && _lookup.TryGetValue(" ", out var dummy)) tokens.Add(dummy);

        var utf8 = Encoding.UTF8.GetBytes(text);
        var buffer = new List<byte>(4);
        for (int i = 0; i < utf8.Length; i++)
        {
            if ((utf8[i] & 0xC0) != 0x80) buffer.Clear();
            buffer.Add(utf8[i]);
            bool nextIsContinuation = i + 1 < utf8.Length && (utf8[i + 1] & 0xC0) == 0x80;
            if (nextIsContinuation && buffer.Count < 4) continue;
            if (_lookup.TryGetValue(Encoding.Latin1.GetString(buffer.ToArray()), out var id))
            {
                tokens.Add(id);
            }
            else
            {
                foreach (var b in buffer) tokens.Add(b + 3);
            }
            buffer.Clear();
        }

        MergePairs(tokens);
        if (eos) tokens.Add(EosId);
        return [.. tokens];
    }

    /// <summary>run.c's merge loop (the highest-scoring piece first, the leftmost among equals), by <see cref="PairMerge"/>.</summary>
    private void MergePairs(List<int> tokens) => PairMerge.Run(tokens, (int left, int right, out int merged, out double cost) =>
    {
        var found = _lookup.TryGetValue(Encoding.Latin1.GetString(_pieces[left]) + Encoding.Latin1.GetString(_pieces[right]), out merged);
        cost = found ? -_scores[merged] : 0;
        return found;
    });

    public byte[] DecodePiece(int previous, int token)
    {
        if ((uint)token >= (uint)_pieces.Length) throw new ArgumentOutOfRangeException(nameof(token), token, $"vocabulary has {_pieces.Length} tokens");
        ReadOnlySpan<byte> piece = _pieces[token];
        if (previous == BosId && piece.Length > 0 && piece[0] == (byte)' ') piece = piece[1..];
        if (PieceText.TryParseByte(piece, out var b)) return PieceText.Safe([b]);
        return PieceText.Safe(piece.ToArray());
    }

    private static int ReadInt(byte[] data, ref int offset, string path, string field)
    {
        if (data.Length - offset < 4) throw new ModelLoadException(path, field, $"file is truncated at byte {offset} of {data.Length}");
        int v = BitConverter.ToInt32(data, offset);
        offset += 4;
        return v;
    }
}
