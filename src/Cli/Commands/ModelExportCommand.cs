using System.CommandLine;
using PdRdma.Engines.Loading;
using PdRdma.Transport;

namespace PdRdma.Cli.Commands;

/// <summary>
/// <c>pdrdma model-export --model M --out FILE</c>: writes a model's weights as a legacy llama2.c checkpoint (float32),
/// so another runtime (scripts/gpu/torch_llama_ref.py) runs exactly the weights this engine runs, tiny-random included.
/// </summary>
public static class ModelExportCommand
{
    private static readonly Option<string> Model = new("--model") { Description = "model spec (llama2.c .bin, Hugging Face folder, tiny-random[:...])", Required = true };
    private static readonly Option<FileInfo> Out = new("--out") { Description = "the .bin to write", HelpName = "FILE", Required = true };

    /// <summary>The command.</summary>
    public static Command Create()
    {
        var command = new Command("model-export", "write a model's weights as a llama2.c .bin (float32)") { Model, Out };
        command.SetAction(parse => Run(parse.GetValue(Model)!, parse.GetValue(Out)!.FullName));
        return command;
    }

    private static int Run(string model, string output)
    {
        try
        {
            using var loaded = ModelSource.Load(model);
            Llama2cCheckpoint.Write(loaded, output);
            Console.WriteLine($"model-export: {loaded.Name} ({loaded.Config.Layers} layers, dim {loaded.Config.Dim}, vocab {loaded.Config.VocabSize}) -> {output} ({new FileInfo(output).Length} bytes)");
            return 0;
        }
        catch (Exception e) when (e is ModelLoadException or TransferException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"model-export: {e.Message}");
            return 1;
        }
    }
}
