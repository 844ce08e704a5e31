namespace PdRdma.Engines.Generation;

/// <summary>
/// Called on the computing thread once a layer's K and V for the whole prompt are in the pool, with the layer index
/// and the sequence's block ids (position order). Keep it short: start the transfer, do not wait for it.
/// </summary>
public delegate void LayerDoneHook(int layer, IReadOnlyList<int> blockIds);
