using System.CommandLine;
using PdRdma.Transport;

namespace PdRdma.Cli.Options;

/// <summary>The <c>--dtype f32|bf16</c> option of the engine commands: the weights' and KV's element type.</summary>
internal static class DTypeOption
{
    /// <summary>A new <c>--dtype</c> option (absent: the model's own); anything else than f32 or bf16 is a usage error.</summary>
    public static Option<KvDType?> Create() => new("--dtype")
    {
        Description = "weights and KV element type (default: the model's own)", HelpName = "f32|bf16",
        CustomParser = r =>
        {
            var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
            switch (text)
            {
                case "f32" or "float32": return KvDType.Float32;
                case "bf16" or "bfloat16": return KvDType.BFloat16;
                default:
                    r.AddError($"--dtype: '{text}' is not f32 or bf16");
                    return null;
            }
        },
    };
}
