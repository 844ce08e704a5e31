namespace PdRdma.Engines.Model;

/// <summary>How rotary embeddings pair the dimensions of a head.</summary>
public enum RopeStyle
{
    /// <summary>llama2.c: dimensions (2i, 2i+1) form a pair.</summary>
    AdjacentPairs = 0,

    /// <summary>Hugging Face Llama: dimension i pairs with i + head_dim/2.</summary>
    RotateHalf = 1,
}
