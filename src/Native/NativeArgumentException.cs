namespace PdRdma.Native;

/// <summary>A caller's argument was refused at the C boundary (status <see cref="PdrdmaStatus.InvalidArgument"/>).</summary>
internal sealed class NativeArgumentException(string message) : Exception(message)
{
}
