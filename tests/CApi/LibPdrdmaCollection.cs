namespace PdRdma.Tests.CApi;

/// <summary>The C and Python tests share one libpdrdma.so build and run one at a time (each starts several processes).</summary>
[CollectionDefinition("libpdrdma")]
public sealed class LibPdrdmaCollection
{
}
