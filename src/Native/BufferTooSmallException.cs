namespace PdRdma.Native;

/// <summary>An output buffer cannot hold the answer (status <see cref="PdrdmaStatus.BufferTooSmall"/>); nothing was consumed.</summary>
internal sealed class BufferTooSmallException(string message) : Exception(message)
{
}
