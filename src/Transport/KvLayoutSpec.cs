using System.Globalization;

namespace PdRdma.Transport;

/// <summary>
/// How an engine lays out its KV, as given on a command line: <c>block=16,tp=2,order=head-major,outer=block-major,dtype=bf16</c>
/// (every key optional). <see cref="Apply"/> turns it into the layout of one rank's pool for a model. Immutable.
/// </summary>
public sealed record KvLayoutSpec(int? TokensPerBlock = null, int TpDegree = 1, KvTokenOrder TokenOrder = KvTokenOrder.TokenMajor,
    KvBlockOrder BlockOrder = KvBlockOrder.LayerMajor, KvDType? DType = null)
{
    public const string Syntax = "block=N,tp=N,order=token-major|head-major,outer=layer-major|block-major,dtype=f32|bf16|f16";

    /// <summary>Parses the comma list; ArgumentException names the bad key or value.</summary>
    public static KvLayoutSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var spec = new KvLayoutSpec();
        if (text.Length > 200) throw new ArgumentException($"layout spec longer than 200 characters ({Syntax})");
        foreach (var item in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var kv = item.Split('=', 2, StringSplitOptions.TrimEntries);
            if (kv.Length != 2) throw new ArgumentException($"layout item '{item}' is not key=value ({Syntax})");
            spec = kv[0] switch
            {
                "block" => spec with { TokensPerBlock = Int(kv[1], 1, 4096, "block") },
                "tp" => spec with { TpDegree = Int(kv[1], 1, 64, "tp") },
                "order" => spec with { TokenOrder = kv[1] switch
                {
                    "token-major" => KvTokenOrder.TokenMajor,
                    "head-major" => KvTokenOrder.HeadMajor,
                    _ => throw new ArgumentException($"order must be token-major or head-major, not '{kv[1]}'"),
                } },
                "outer" => spec with { BlockOrder = kv[1] switch
                {
                    "layer-major" => KvBlockOrder.LayerMajor,
                    "block-major" => KvBlockOrder.BlockMajor,
                    _ => throw new ArgumentException($"outer must be layer-major or block-major, not '{kv[1]}'"),
                } },
                "dtype" => spec with { DType = kv[1] switch
                {
                    "f32" or "float32" => KvDType.Float32,
                    "bf16" or "bfloat16" => KvDType.BFloat16,
                    "f16" or "float16" => KvDType.Float16,
                    _ => throw new ArgumentException($"dtype must be f32, bf16 or f16, not '{kv[1]}'"),
                } },
                _ => throw new ArgumentException($"unknown layout key '{kv[0]}' ({Syntax})"),
            };
        }
        return spec;
    }

    /// <summary>
    /// The layout of rank <paramref name="rank"/>'s pool for a model whose full layout is <paramref name="model"/>
    /// (all heads, default order): block size, dtype and order replaced where given, heads split over <see cref="TpDegree"/>.
    /// </summary>
    public KvLayout Apply(KvLayout model, int rank = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.TotalKvHeads % TpDegree != 0)
        {
            throw new TransferException(TransferErrorCode.LayoutMismatch, $"tp={TpDegree} does not divide the model's {model.TotalKvHeads} KV heads");
        }
        return new KvLayout(model.Layers, model.TotalKvHeads / TpDegree, model.HeadDim, TokensPerBlock ?? model.TokensPerBlock, DType ?? model.DType,
            model.Blocks, rank, TpDegree, BlockOrder, TokenOrder);
    }

    private static int Int(string text, int min, int max, string key)
    {
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw new ArgumentException($"{key} must be an integer in [{min}, {max}], not '{text}'");
        }
        return value;
    }
}
