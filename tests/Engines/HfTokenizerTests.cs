using System.Text;
using System.Text.Json;
using PdRdma.Engines.Loading;
using PdRdma.Engines.Tokenization;

namespace PdRdma.Tests.Engines;

public sealed class HfTokenizerTests : IDisposable
{
    private readonly string _dir = TestModels.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // GPT-2's byte-to-unicode table, written out independently of the tokenizer's.
    private static char ByteChar(int b)
    {
        var printable = Enumerable.Range('!', '~' - '!' + 1).Concat(Enumerable.Range(0xA1, 0xAC - 0xA1 + 1)).Concat(Enumerable.Range(0xAE, 0xFF - 0xAE + 1)).ToHashSet();
        if (printable.Contains(b)) return (char)b;
        return (char)(256 + Enumerable.Range(0, b).Count(x => !printable.Contains(x)));
    }

    [Fact]
    public void ByteLevelBpeEncodesAndDecodesLikeGpt2()
    {
        var vocab = new Dictionary<string, int>();
        for (int b = 0; b < 256; b++) vocab[ByteChar(b).ToString()] = b;
        string[] merged = ["he", "ll", "hell", "hello", "\u0120w"];
        for (int i = 0; i < merged.Length; i++) vocab[merged[i]] = 257 + i;
        var json = new
        {
            added_tokens = new[] { new { id = 256, content = "<|endoftext|>", special = true } },
            normalizer = (object?)null,
            pre_tokenizer = new { type = "ByteLevel", add_prefix_space = false },
            model = new { type = "BPE", vocab, merges = new[] { "h e", "l l", "he ll", "hell o", "\u0120 w" } },
        };
        var path = Path.Combine(_dir, "tokenizer.json");
        File.WriteAllText(path, JsonSerializer.Serialize(json));
        var tok = HfBpeTokenizer.Load(path, bosId: 256, eosId: 256);

        var ids = tok.Encode("hello world");
        Assert.Equal([256, 260, 261, 'o', 'r', 'l', 'd'], ids);
        var text = new List<byte>();
        for (int i = 1; i < ids.Length; i++) text.AddRange(tok.DecodePiece(ids[i - 1], ids[i]));
        Assert.Equal("hello world", Encoding.UTF8.GetString(text.ToArray()));
        Assert.Empty(tok.DecodePiece(5, 256));
    }

    [Fact]
    public async Task ALongWordWithoutSpacesMergesByRankAndFinishes()
    {
        var vocab = new Dictionary<string, int>();
        for (int b = 0; b < 256; b++) vocab[ByteChar(b).ToString()] = b;
        string[] merged = ["ab", "abab", "ba", "abababab"];
        for (int i = 0; i < merged.Length; i++) vocab[merged[i]] = 257 + i;
        var json = new
        {
            added_tokens = new[] { new { id = 256, content = "<|endoftext|>", special = true } },
            normalizer = (object?)null,
            pre_tokenizer = new { type = "ByteLevel", add_prefix_space = false },
            model = new { type = "BPE", vocab, merges = new[] { "a b", "ab ab", "b a", "abab abab" } },
        };
        var path = Path.Combine(_dir, "tokenizer.json");
        File.WriteAllText(path, JsonSerializer.Serialize(json));
        var tok = HfBpeTokenizer.Load(path, bosId: 256, eosId: 256);
        // Rank order: "a b" first everywhere (leftmost first), then "ab ab", then "abab abab"; "b a" never gets a turn.
        Assert.Equal([256, 260, 258, 257, 'a'], tok.Encode("abababababababa"));
        // One 200 000-character word: the rescanning loop needed about n²/2 pair lookups; this is a hang guard only.
        var ids = await Task.Run(() => tok.Encode(string.Concat(Enumerable.Repeat("ab", 100_000)))).WaitAsync(TimeSpan.FromSeconds(120));
        Assert.Equal(1 + 100_000 / 4, ids.Length);
        Assert.All(ids.Skip(1), id => Assert.Equal(260, id));
    }

    [Fact]
    public void UnsupportedModelTypeIsNamed()
    {
        var path = Path.Combine(_dir, "tokenizer.json");
        File.WriteAllText(path, """{"model": {"type": "Unigram", "vocab": []}}""");
        var e = Assert.Throws<ModelLoadException>(() => HfBpeTokenizer.Load(path));
        Assert.Equal("model.type", e.Field);
        Assert.Equal(path, e.File);
    }
}
