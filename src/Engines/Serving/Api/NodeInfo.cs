namespace PdRdma.Engines.Serving.Api;

/// <summary>Engine identity: role, model, node id and how peers reach it.</summary>
public sealed record NodeInfo(string Role, string Model, string Node, string PeerEndpoint, string Mode);
