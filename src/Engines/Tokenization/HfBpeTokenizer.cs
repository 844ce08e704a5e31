using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using PdRdma.Engines.Loading;

namespace PdRdma.Engines.Tokenization;

/// <summary>
/// A Hugging Face tokenizer.json with a BPE model: SentencePiece style (Prepend/Replace normalizers or a Metaspace
/// pre-tokenizer, byte fallback) or GPT-2 style (ByteLevel). Other models and pre-tokenizers are refused by name.
/// </summary>
public sealed partial class HfBpeTokenizer : ITokenizer
{
    private const char Meta = '\u2581';
    private readonly Dictionary<string, int> _vocab;
    private readonly string[] _idToToken;
    private readonly Dictionary<(string, string), int> _ranks;
    private readonly HashSet<int> _special;
    private readonly bool _byteFallback;
    private readonly bool _byteLevel;
    private readonly List<Func<string, string>> _normalizers;
    private readonly string? _metaspacePrefix;
    private readonly int _unkId;
    private readonly Dictionary<char, byte> _byteDecoder = [];
    private readonly char[] _byteEncoder = new char[256];

    private HfBpeTokenizer(Dictionary<string, int> vocab, Dictionary<(string, string), int> ranks, HashSet<int> special, bool byteFallback,
        bool byteLevel, List<Func<string, string>> normalizers, string? metaspacePrefix, int unkId, int bosId, int eosId)
    {
        _vocab = vocab;
        _ranks = ranks;
        _special = special;
        _byteFallback = byteFallback;
        _byteLevel = byteLevel;
        _normalizers = normalizers;
        _metaspacePrefix = metaspacePrefix;
        _unkId = unkId;
        BosId = bosId;
        EosId = eosId;
        _idToToken = new string[vocab.Count == 0 ? 0 : vocab.Values.Max() + 1];
        foreach (var (token, id) in vocab) _idToToken[id] = token;
        StopTokens = new HashSet<int> { bosId, eosId };
        BuildByteMaps();
    }

    public int VocabSize => _idToToken.Length;

    public int BosId { get; }

    public int EosId { get; }

    public IReadOnlySet<int> StopTokens { get; }

    /// <summary>Reads tokenizer.json; BOS/EOS default to "&lt;s&gt;"/"&lt;/s&gt;" when the ids are not given.</summary>
    public static HfBpeTokenizer Load(string path, int? bosId = null, int? eosId = null)
    {
        using (var doc = ModelJsonFile.Open(path, "tokenizer.json not found"))
        {
            var root = doc.RootElement;
            if (!root.TryGetProperty("model", out var model)) throw new ModelLoadException(path, "model", "missing");
            var type = model.TryGetProperty("type", out var t) ? t.GetString() : "BPE";
            if (type != "BPE") throw new ModelLoadException(path, "model.type", $"'{type}' is not supported (only BPE)");
            if (!model.TryGetProperty("vocab", out var vocabEl) || vocabEl.ValueKind != JsonValueKind.Object)
            {
                throw new ModelLoadException(path, "model.vocab", "missing or not an object");
            }
            var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var p in vocabEl.EnumerateObject()) vocab[p.Name] = p.Value.GetInt32();

            var ranks = new Dictionary<(string, string), int>();
            if (model.TryGetProperty("merges", out var merges))
            {
                int rank = 0;
                foreach (var m in merges.EnumerateArray())
                {
                    (string, string) pair;
                    if (m.ValueKind == JsonValueKind.String)
                    {
                        var s = m.GetString()!;
                        int space = s.IndexOf(' ', 1);
                        if (space < 0) throw new ModelLoadException(path, $"model.merges[{rank}]", $"'{s}' is not 'a b'");
                        pair = (s[..space], s[(space + 1)..]);
                    }
                    else
                    {
                        pair = (m[0].GetString()!, m[1].GetString()!);
                    }
                    ranks.TryAdd(pair, rank++);
                }
            }

            var special = new HashSet<int>();
            if (root.TryGetProperty("added_tokens", out var added) && added.ValueKind == JsonValueKind.Array)
            {
                foreach (var a in added.EnumerateArray())
                {
                    var content = a.GetProperty("content").GetString()!;
                    int id = a.GetProperty("id").GetInt32();
                    vocab[content] = id;
                    if (a.TryGetProperty("special", out var sp) && sp.GetBoolean()) special.Add(id);
                }
            }

            bool byteFallback = model.TryGetProperty("byte_fallback", out var bf) && bf.ValueKind == JsonValueKind.True;
            string? unk = model.TryGetProperty("unk_token", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString() : null;
            int unkId = unk is not null && vocab.TryGetValue(unk, out var ui) ? ui : -1;

            var normalizers = new List<Func<string, string>>();
            if (root.TryGetProperty("normalizer", out var norm) && norm.ValueKind == JsonValueKind.Object)
            {
                AddNormalizer(norm, normalizers, path, "normalizer");
            }

            bool byteLevel = false;
            string? metaspacePrefix = null;
            if (root.TryGetProperty("pre_tokenizer", out var pre) && pre.ValueKind == JsonValueKind.Object)
            {
                var preType = pre.GetProperty("type").GetString();
                switch (preType)
                {
                    case "ByteLevel":
                        byteLevel = true;
                        break;
                    case "Metaspace":
                        var replacement = pre.TryGetProperty("replacement", out var r) ? r.GetString()! : Meta.ToString();
                        var scheme = pre.TryGetProperty("prepend_scheme", out var ps) ? ps.GetString() : null;
                        bool addPrefix = pre.TryGetProperty("add_prefix_space", out var aps) ? aps.GetBoolean() : scheme != "never";
                        normalizers.Add(s => s.Replace(" ", replacement, StringComparison.Ordinal));
                        if (addPrefix && scheme != "never") metaspacePrefix = replacement;
                        break;
                    default:
                        throw new ModelLoadException(path, "pre_tokenizer.type", $"'{preType}' is not supported (ByteLevel or Metaspace)");
                }
            }

            int bos = bosId ?? (vocab.TryGetValue("<s>", out var b) ? b : vocab.TryGetValue("<|begin_of_text|>", out b) ? b : -1);
            int eos = eosId ?? (vocab.TryGetValue("</s>", out var e) ? e : vocab.TryGetValue("<|end_of_text|>", out e) ? e : -1);
            if (bos < 0) throw new ModelLoadException(path, "added_tokens", "no BOS token (<s>) and no bos_token_id given");
            if (eos < 0) throw new ModelLoadException(path, "added_tokens", "no EOS token (</s>) and no eos_token_id given");
            return new HfBpeTokenizer(vocab, ranks, special, byteFallback, byteLevel, normalizers, metaspacePrefix, unkId, bos, eos);
        }
    }

    private static void AddNormalizer(JsonElement norm, List<Func<string, string>> list, string path, string field)
    {
        var type = norm.GetProperty("type").GetString();
        switch (type)
        {
            case "Sequence":
                int i = 0;
                foreach (var n in norm.GetProperty("normalizers").EnumerateArray()) AddNormalizer(n, list, path, $"{field}.normalizers[{i++}]");
                break;
            case "Prepend":
                var prefix = norm.GetProperty("prepend").GetString()!;
                list.Add(s => s.Length == 0 ? s : prefix + s);
                break;
            case "Replace":
                var pattern = norm.GetProperty("pattern");
                if (!pattern.TryGetProperty("String", out var str)) throw new ModelLoadException(path, $"{field}.pattern", "only String patterns are supported");
                var from = str.GetString()!;
                var to = norm.GetProperty("content").GetString()!;
                list.Add(s => s.Replace(from, to, StringComparison.Ordinal));
                break;
            case "NFC":
                list.Add(s => s.Normalize(NormalizationForm.FormC));
                break;
            default:
                throw new ModelLoadException(path, $"{field}.type", $"normalizer '{type}' is not supported");
        }
    }

    public int[] Encode(string text, bool bos = true, bool eos = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = new List<int>();
        if (bos) tokens.Add(BosId);
        if (text.Length > 0)
        {
            if (_byteLevel)
            {
                foreach (Match m in Gpt2Split().Matches(text))
                {
                    var mapped = new StringBuilder();
                    foreach (var b in Encoding.UTF8.GetBytes(m.Value)) mapped.Append(_byteEncoder[b]);
                    EncodeWord(mapped.ToString(), tokens);
                }
            }
            else
            {
                var s = text;
                foreach (var n in _normalizers) s = n(s);
                if (_metaspacePrefix is not null && !s.StartsWith(_metaspacePrefix, StringComparison.Ordinal)) s = _metaspacePrefix + s;
                EncodeWord(s, tokens);
            }
        }
        if (eos) tokens.Add(EosId);
        return [.. tokens];
    }

    private void EncodeWord(string word, List<int> output)
    {
        var symbols = new List<string>();
        foreach (var rune in word.EnumerateRunes()) symbols.Add(rune.ToString());
        MergeByRank(symbols);
        foreach (var s in symbols)
        {
            if (_vocab.TryGetValue(s, out var id))
            {
                output.Add(id);
            }
            else if (_byteFallback)
            {
                foreach (var b in Encoding.UTF8.GetBytes(s)) output.Add(_vocab.TryGetValue($"<0x{b:X2}>", out var bid) ? bid : _unkId);
            }
            else if (_unkId >= 0)
            {
                output.Add(_unkId);
            }
        }
    }

    /// <summary>BPE: the pair with the lowest merge rank first, the leftmost among equals, by <see cref="PairMerge"/>.</summary>
    private void MergeByRank(List<string> symbols) => PairMerge.Run(symbols, (string left, string right, out string merged, out double cost) =>
    {
        var found = _ranks.TryGetValue((left, right), out var rank);
        merged = found ? left + right : "";
        cost = rank;
        return found;
    });

    public byte[] DecodePiece(int previous, int token)
    {
        if ((uint)token >= (uint)_idToToken.Length || _idToToken[token] is null || _special.Contains(token)) return [];
        var piece = _idToToken[token];
        if (_byteFallback && PieceText.TryParseByte(Encoding.ASCII.GetBytes(piece), out var raw)) return PieceText.Safe([raw]);
        byte[] bytes;
        if (_byteLevel)
        {
            bytes = piece.Select(c => _byteDecoder.TryGetValue(c, out var b) ? b : (byte)'?').ToArray();
        }
        else
        {
            bytes = Encoding.UTF8.GetBytes(piece.Replace(Meta, ' '));
            if (previous == BosId && bytes.Length > 0 && bytes[0] == (byte)' ') bytes = bytes[1..];
        }
        return PieceText.Safe(bytes);
    }

    private void BuildByteMaps()
    {
        // GPT-2's bytes_to_unicode: printable bytes map to themselves, the rest to 256 + n.
        int n = 0;
        for (int b = 0; b < 256; b++)
        {
            bool keep = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = keep ? (char)b : (char)(256 + n++);
            _byteEncoder[b] = c;
            _byteDecoder[c] = (byte)b;
        }
    }

    [GeneratedRegex(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+")]
    private static partial Regex Gpt2Split();
}
