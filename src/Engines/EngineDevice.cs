using System.Globalization;
using PdRdma.Transport;

namespace PdRdma.Engines;

/// <summary>
/// The device a model runs on, parsed once from <c>--device cpu|cuda[:N]</c> and passed typed from there on.
/// Immutable; <see cref="ToString"/> gives back the canonical spelling ("cpu", "cuda:N").
/// </summary>
public readonly record struct EngineDevice
{
    /// <summary>Highest CUDA ordinal accepted by the parser (a bound on hostile input, far above any real host).</summary>
    public const int MaxIndex = 255;

    private EngineDevice(EngineDeviceKind kind, int index)
    {
        Kind = kind;
        Index = index;
    }

    /// <summary>The host CPU (the default).</summary>
    public static EngineDevice Cpu => default;

    public EngineDeviceKind Kind { get; }

    /// <summary>CUDA ordinal; 0 for the CPU.</summary>
    public int Index { get; }

    public bool IsCuda => Kind == EngineDeviceKind.Cuda;

    /// <summary>CUDA device <paramref name="index"/> (0..<see cref="MaxIndex"/>).</summary>
    public static EngineDevice Cuda(int index = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(index, MaxIndex);
        return new EngineDevice(EngineDeviceKind.Cuda, index);
    }

    /// <summary>
    /// Parses "cpu", "cuda" or "cuda:N" (ASCII digits, no sign or spaces, N ≤ <see cref="MaxIndex"/>). Anything else
    /// throws TransferException(Unsupported) naming the accepted forms; the text is quoted only up to 32 characters.
    /// </summary>
    public static EngineDevice Parse(string? text) =>
        TryParse(text, out var device) ? device : throw new TransferException(TransferErrorCode.Unsupported,
            $"device '{Quote(text)}' is not one of cpu, cuda, cuda:N (N = 0..{MaxIndex})");

    public static bool TryParse(string? text, out EngineDevice device)
    {
        device = Cpu;
        if (text is null || text.Length > 16) return false;
        if (text == "cpu") return true;
        if (text == "cuda")
        {
            device = Cuda(0);
            return true;
        }
        if (!text.StartsWith("cuda:", StringComparison.Ordinal)) return false;
        var digits = text.AsSpan(5);
        if (digits.IsEmpty || digits.Length > 3) return false;
        foreach (var c in digits)
        {
            if (c is < '0' or > '9') return false;
        }
        int index = int.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);
        if (index > MaxIndex) return false;
        device = Cuda(index);
        return true;
    }

    /// <summary>The TorchSharp device. Creating it does not load CUDA; <see cref="TorchRuntime.EnsureAvailable"/> does.</summary>
    public TorchSharp.torch.Device ToTorch() => IsCuda ? new TorchSharp.torch.Device(TorchSharp.DeviceType.CUDA, Index) : TorchSharp.torch.CPU;

    public override string ToString() => IsCuda ? $"cuda:{Index.ToString(CultureInfo.InvariantCulture)}" : "cpu";

    private static string Quote(string? text) => text is null ? "(none)" : text.Length <= 32 ? text : text[..32] + "…";
}
