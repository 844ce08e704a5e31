namespace PdRdma.Engines.Serving.Api;

/// <summary>Proxy → decode: give up a request (its lease and blocks return).</summary>
public sealed record CancelCall(string RequestId);
