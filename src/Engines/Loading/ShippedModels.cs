namespace PdRdma.Engines.Loading;

/// <summary>
/// Models shipped inside the repository (models/, copied beside the binaries at build), so that a fresh clone
/// serves and demos a real trained model without the network.
/// </summary>
public static class ShippedModels
{
    /// <summary>The name that stands for models/stories260K/stories260K.bin.</summary>
    public const string Stories260KName = "stories260K";

    /// <summary>The shipped stories260K checkpoint: beside the binaries, else in a models/ folder above them (the repository).</summary>
    public static string Stories260KPath
    {
        get
        {
            var beside = Path.Combine(AppContext.BaseDirectory, "models", "stories260K", "stories260K.bin");
            if (File.Exists(beside)) return beside;
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "models", "stories260K", "stories260K.bin");
                if (File.Exists(candidate)) return candidate;
            }
            return beside;
        }
    }

    /// <summary>The file a shipped model's name stands for; any other argument unchanged.</summary>
    public static string Resolve(string model) => model == Stories260KName ? Stories260KPath : model;
}
