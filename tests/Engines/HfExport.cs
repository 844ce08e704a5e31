using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace PdRdma.Tests.Engines;

/// <summary>
/// Writes stories260K as a Hugging Face folder (config.json, model.safetensors, tokenizer.json), the way
/// llama2.c's export.py does: wq/wk rows permuted from adjacent-pair to rotate-half order. Test-only.
/// </summary>
internal static class HfExport
{
    public static void Write(string folder, bool bf16, Action<Dictionary<string, (long[] Shape, float[] Data)>>? tamper = null)
    {
        Directory.CreateDirectory(folder);
        var bytes = File.ReadAllBytes(TestModels.Stories260K);
        var h = Enumerable.Range(0, 7).Select(i => BitConverter.ToInt32(bytes, i * 4)).ToArray();
        int dim = h[0], hidden = h[1], layers = h[2], heads = h[3], kvHeads = h[4], vocab = h[5], seq = h[6];
        int hs = dim / heads, kvd = kvHeads * hs;
        int offset = 28;
        float[] Take(long count)
        {
            var a = new float[count];
            Buffer.BlockCopy(bytes, offset, a, 0, (int)count * 4);
            offset += (int)count * 4;
            return a;
        }
        var emb = Take((long)vocab * dim);
        var rmsAtt = Take(layers * dim);
        var wq = Take((long)layers * dim * dim);
        var wk = Take((long)layers * dim * kvd);
        var wv = Take((long)layers * dim * kvd);
        var wo = Take((long)layers * dim * dim);
        var rmsFfn = Take(layers * dim);
        var w1 = Take((long)layers * hidden * dim);
        var w2 = Take((long)layers * dim * hidden);
        var w3 = Take((long)layers * hidden * dim);
        var rmsFinal = Take(dim);

        var tensors = new Dictionary<string, (long[] Shape, float[] Data)>
        {
            ["model.embed_tokens.weight"] = ([vocab, dim], emb),
            ["model.norm.weight"] = ([dim], rmsFinal),
            ["lm_head.weight"] = ([vocab, dim], emb),
        };
        float[] Layer(float[] all, int l, int count) => all.AsSpan(l * count, count).ToArray();
        for (int l = 0; l < layers; l++)
        {
            var p = $"model.layers.{l}.";
            tensors[p + "input_layernorm.weight"] = ([dim], Layer(rmsAtt, l, dim));
            tensors[p + "self_attn.q_proj.weight"] = ([dim, dim], Permute(Layer(wq, l, dim * dim), heads, hs, dim));
            tensors[p + "self_attn.k_proj.weight"] = ([kvd, dim], Permute(Layer(wk, l, kvd * dim), kvHeads, hs, dim));
            tensors[p + "self_attn.v_proj.weight"] = ([kvd, dim], Layer(wv, l, kvd * dim));
            tensors[p + "self_attn.o_proj.weight"] = ([dim, dim], Layer(wo, l, dim * dim));
            tensors[p + "post_attention_layernorm.weight"] = ([dim], Layer(rmsFfn, l, dim));
            tensors[p + "mlp.gate_proj.weight"] = ([hidden, dim], Layer(w1, l, hidden * dim));
            tensors[p + "mlp.down_proj.weight"] = ([dim, hidden], Layer(w2, l, dim * hidden));
            tensors[p + "mlp.up_proj.weight"] = ([hidden, dim], Layer(w3, l, hidden * dim));
        }
        tamper?.Invoke(tensors);
        WriteSafetensors(Path.Combine(folder, "model.safetensors"), tensors, bf16);

        var config = new Dictionary<string, object>
        {
            ["architectures"] = new[] { "LlamaForCausalLM" },
            ["hidden_size"] = dim,
            ["intermediate_size"] = hidden,
            ["num_hidden_layers"] = layers,
            ["num_attention_heads"] = heads,
            ["num_key_value_heads"] = kvHeads,
            ["vocab_size"] = vocab,
            ["max_position_embeddings"] = seq,
            ["rms_norm_eps"] = 1e-5,
            ["rope_theta"] = 10000.0,
            ["tie_word_embeddings"] = false,
            ["bos_token_id"] = 1,
            ["eos_token_id"] = 2,
            ["torch_dtype"] = bf16 ? "bfloat16" : "float32",
        };
        File.WriteAllText(Path.Combine(folder, "config.json"), JsonSerializer.Serialize(config));
        WriteTokenizerJson(Path.Combine(folder, "tokenizer.json"), vocab);
    }

    // Row (head, 2i + j) in llama2.c order becomes row (head, j * hs/2 + i) in rotate-half order.
    private static float[] Permute(float[] w, int heads, int hs, int cols)
    {
        var o = new float[w.Length];
        for (int head = 0; head < heads; head++)
            for (int i = 0; i < hs / 2; i++)
                for (int j = 0; j < 2; j++)
                    Array.Copy(w, (long)(head * hs + 2 * i + j) * cols, o, (long)(head * hs + j * hs / 2 + i) * cols, cols);
        return o;
    }

    public static void WriteSafetensors(string path, Dictionary<string, (long[] Shape, float[] Data)> tensors, bool bf16)
    {
        var header = new Dictionary<string, object> { ["__metadata__"] = new Dictionary<string, string> { ["format"] = "pt" } };
        long cursor = 0;
        int size = bf16 ? 2 : 4;
        foreach (var (name, (shape, data)) in tensors)
        {
            header[name] = new { dtype = bf16 ? "BF16" : "F32", shape, data_offsets = new[] { cursor, cursor + (long)data.Length * size } };
            cursor += (long)data.Length * size;
        }
        var json = JsonSerializer.SerializeToUtf8Bytes(header);
        using var file = File.Create(path);
        var len = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)json.Length);
        file.Write(len);
        file.Write(json);
        foreach (var (_, (_, data)) in tensors)
        {
            var buf = new byte[data.Length * size];
            for (int i = 0; i < data.Length; i++)
            {
                if (bf16)
                {
                    uint bits = BitConverter.SingleToUInt32Bits(data[i]);
                    uint rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16;
                    BinaryPrimitives.WriteUInt16LittleEndian(buf.AsSpan(i * 2), (ushort)rounded);
                }
                else
                {
                    BinaryPrimitives.WriteSingleLittleEndian(buf.AsSpan(i * 4), data[i]);
                }
            }
            file.Write(buf);
        }
    }

    /// <summary>tok512.bin as a SentencePiece-style BPE tokenizer.json: merges ordered by the merged piece's score.</summary>
    private static void WriteTokenizerJson(string path, int vocabSize)
    {
        var data = File.ReadAllBytes(TestModels.Tok512);
        int off = 4;
        var pieces = new string[vocabSize];
        var scores = new float[vocabSize];
        for (int i = 0; i < vocabSize; i++)
        {
            scores[i] = BitConverter.ToSingle(data, off);
            int len = BitConverter.ToInt32(data, off + 4);
            pieces[i] = Encoding.UTF8.GetString(data, off + 8, len).Replace(' ', '\u2581');
            off += 8 + len;
        }
        pieces[0] = "<unk>";
        pieces[1] = "<s>";
        pieces[2] = "</s>";
        var vocab = new Dictionary<string, int>();
        for (int i = 0; i < vocabSize; i++) vocab.TryAdd(pieces[i], i);
        var merges = new List<string>();
        foreach (var id in Enumerable.Range(259, vocabSize - 259).OrderByDescending(i => scores[i]).ThenBy(i => i))
        {
            var piece = pieces[id];
            for (int k = 1; k < piece.Length; k++)
            {
                var (a, b) = (piece[..k], piece[k..]);
                if (vocab.TryGetValue(a, out var ia) && ia >= 3 && vocab.TryGetValue(b, out var ib) && ib >= 3) merges.Add($"{a} {b}");
            }
        }
        var tokenizer = new
        {
            version = "1.0",
            added_tokens = new[]
            {
                new { id = 0, content = "<unk>", special = true },
                new { id = 1, content = "<s>", special = true },
                new { id = 2, content = "</s>", special = true },
            },
            normalizer = new
            {
                type = "Sequence",
                normalizers = new object[]
                {
                    new { type = "Prepend", prepend = "\u2581" },
                    new { type = "Replace", pattern = new { String = " " }, content = "\u2581" },
                },
            },
            pre_tokenizer = (object?)null,
            model = new { type = "BPE", unk_token = "<unk>", byte_fallback = true, fuse_unk = true, vocab, merges },
        };
        File.WriteAllText(path, JsonSerializer.Serialize(tokenizer));
    }
}
