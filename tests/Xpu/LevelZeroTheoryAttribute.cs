namespace PdRdma.Tests.Xpu;

/// <summary>The theory form of <see cref="LevelZeroFactAttribute"/>.</summary>
public sealed class LevelZeroTheoryAttribute : TheoryAttribute
{
    public LevelZeroTheoryAttribute()
    {
        Skip = LevelZeroFactAttribute.MissingReason();
    }
}
