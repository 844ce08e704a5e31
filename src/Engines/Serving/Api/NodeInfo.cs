namespace PdRdma.Engines.Serving.Api;

/// <summary>Engine identity: role, model, node id, how peers reach it, and the model's context length.</summary>
public sealed record NodeInfo(string Role, string Model, string Node, string PeerEndpoint, string Mode, int ContextLength = 0);
