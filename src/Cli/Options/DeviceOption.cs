using System.CommandLine;
using PdRdma.Engines;

namespace PdRdma.Cli.Options;

/// <summary>The <c>--device cpu|cuda[:N]</c> option: where a model runs.</summary>
internal static class DeviceOption
{
    /// <summary>A new <c>--device</c> option (default cpu); anything else than cpu or cuda[:N] is a usage error.</summary>
    public static Option<EngineDevice> Create(string description) => new("--device")
    {
        Description = description, HelpName = "cpu|cuda[:N]", DefaultValueFactory = _ => EngineDevice.Cpu,
        CustomParser = r =>
        {
            var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
            try
            {
                return EngineDevice.Parse(text);
            }
            catch (Transport.TransferException e)
            {
                r.AddError($"--device: {e.Code}: {e.Message}");
                return EngineDevice.Cpu;
            }
        },
    };
}
