namespace PdRdma.Transport;

/// <summary>Keys or values of one layer.</summary>
public enum KvPart
{
    Key = 0,
    Value = 1,
}
