using PdRdma.Engines.Loading;
using PdRdma.Transport;

namespace PdRdma.Cli.Commands;

/// <summary>
/// <c>pdrdma model-export --model M --out FILE</c>: writes a model's weights as a legacy llama2.c checkpoint (float32),
/// so another runtime (scripts/gpu/torch_llama_ref.py) runs exactly the weights this engine runs, tiny-random included.
/// </summary>
public static class ModelExportCommand
{
    public const string Help = "write a model's weights as a llama2.c .bin (float32): --model M --out FILE";

    public static Task<int> RunAsync(string[] args)
    {
        string? model = null, output = null;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--model" when i + 1 < args.Length: model = args[++i]; break;
                case "--out" when i + 1 < args.Length: output = args[++i]; break;
                default:
                    Console.Error.WriteLine($"model-export: unknown option or missing value '{args[i]}'\n{Help}");
                    return Task.FromResult(2);
            }
        }
        if (model is null || output is null)
        {
            Console.Error.WriteLine($"model-export: --model and --out are required\n{Help}");
            return Task.FromResult(2);
        }
        try
        {
            using var loaded = ModelSource.Load(model);
            Llama2cCheckpoint.Write(loaded, output);
            Console.WriteLine($"model-export: {loaded.Name} ({loaded.Config.Layers} layers, dim {loaded.Config.Dim}, vocab {loaded.Config.VocabSize}) -> {output} ({new FileInfo(output).Length} bytes)");
            return Task.FromResult(0);
        }
        catch (Exception e) when (e is ModelLoadException or TransferException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"model-export: {e.Message}");
            return Task.FromResult(1);
        }
    }
}
