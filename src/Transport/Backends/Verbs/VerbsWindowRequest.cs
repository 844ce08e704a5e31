namespace PdRdma.Transport.Backends.Verbs;

/// <summary>One window to bind: [<paramref name="Offset"/>, +<paramref name="Length"/>) of a registration (offsets within it).</summary>
public readonly record struct VerbsWindowRequest(VerbsRegistration Registration, long Offset, long Length);
