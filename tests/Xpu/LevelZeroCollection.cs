namespace PdRdma.Tests.Xpu;

/// <summary>Tests sharing one test-driver device (and the process-wide loader choice).</summary>
[CollectionDefinition(Name)]
public sealed class LevelZeroCollection : ICollectionFixture<LevelZeroFixture>
{
    public const string Name = "Level Zero test driver";
}
