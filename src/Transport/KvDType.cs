namespace PdRdma.Transport;

/// <summary>Element type of a KV cache.</summary>
public enum KvDType
{
    Float32 = 0,
    BFloat16 = 1,
    Float16 = 2,
}
