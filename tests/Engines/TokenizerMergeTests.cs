using System.Text;
using PdRdma.Engines.Tokenization;

namespace PdRdma.Tests.Engines;

/// <summary>The heap-based BPE merge gives run.c's greedy merge result on any text, and long prompts finish.</summary>
public sealed class TokenizerMergeTests
{
    private static readonly Llama2cTokenizer Tok = Llama2cTokenizer.Load(TestModels.Tok512, 512);

    [Fact]
    public void HeapMergeEqualsRunCsQuadraticLoopOnRandomTexts()
    {
        var random = new Random(12);
        var alphabet = "abcdefghijklmnopqrstuvwxyz     .,!?'\nThe Lily Tom once upon a time é中🙂";
        for (int round = 0; round < 300; round++)
        {
            var text = new StringBuilder();
            int length = random.Next(0, 300);
            for (int i = 0; i < length; i++) text.Append(alphabet[random.Next(alphabet.Length)]);
            var s = text.ToString();
            if (char.IsHighSurrogate(s.LastOrDefault())) s = s[..^1];
            Assert.Equal(Reference(s), Tok.Encode(s));
        }
        var story = File.ReadAllText(TestModels.ExpectedGreedy200);
        Assert.Equal(Reference(story), Tok.Encode(story));
    }

    [Fact]
    public async Task HundredKilobytePromptIsTokenised()
    {
        var story = File.ReadAllText(TestModels.ExpectedGreedy200);
        var text = string.Concat(Enumerable.Repeat(story, 100_000 / story.Length + 1))[..100_000];
        // A hang guard, not a speed measurement (bench owns speed): the quadratic loop took minutes here.
        var ids = await Task.Run(() => Tok.Encode(text)).WaitAsync(TimeSpan.FromSeconds(120));
        Assert.InRange(ids.Length, 100_000 / Tok.MaxTokenLength, 100_002);
        var head = story[..200];
        Assert.Equal(Tok.Encode(head), Reference(head));
    }

    /// <summary>run.c's encode merge loop as written there (O(n²)): the specification the heap version must meet.</summary>
    private static int[] Reference(string text)
    {
        var tokens = new List<int> { Tok.BosId };
        if (text.Length > 0) tokens.Add(Find(" "));
        var utf8 = Encoding.UTF8.GetBytes(text);
        var buffer = new List<byte>();
        for (int i = 0; i < utf8.Length; i++)
        {
            if ((utf8[i] & 0xC0) != 0x80) buffer.Clear();
            buffer.Add(utf8[i]);
            if (i + 1 < utf8.Length && (utf8[i + 1] & 0xC0) == 0x80 && buffer.Count < 4) continue;
            var id = Find(Encoding.Latin1.GetString(buffer.ToArray()));
            if (id >= 0) tokens.Add(id);
            else foreach (var b in buffer) tokens.Add(b + 3);
            buffer.Clear();
        }
        while (true)
        {
            float best = -1e10f;
            int bestId = -1, bestIndex = -1;
            for (int i = 0; i < tokens.Count - 1; i++)
            {
                var id = Find(Encoding.Latin1.GetString(Tok.Piece(tokens[i])) + Encoding.Latin1.GetString(Tok.Piece(tokens[i + 1])));
                if (id >= 0 && Tok.Score(id) > best)
                {
                    best = Tok.Score(id);
                    bestId = id;
                    bestIndex = i;
                }
            }
            if (bestIndex < 0) break;
            tokens[bestIndex] = bestId;
            tokens.RemoveAt(bestIndex + 1);
        }
        return [.. tokens];
    }

    private static readonly Dictionary<string, int> Lookup = BuildLookup();

    private static Dictionary<string, int> BuildLookup()
    {
        var map = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < Tok.VocabSize; i++) map.TryAdd(Encoding.Latin1.GetString(Tok.Piece(i)), i);
        return map;
    }

    private static int Find(string piece) => Lookup.TryGetValue(piece, out var id) ? id : -1;
}
