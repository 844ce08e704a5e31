using PdRdma.Transport;

namespace PdRdma.Native;

/// <summary>
/// Return value of every export (<c>pdrdma_status</c> in include/pdrdma.h). Positive values are exactly
/// <see cref="TransferErrorCode"/>; the negative ones are conditions of the C boundary itself.
/// </summary>
internal static class PdrdmaStatus
{
    public const int Ok = 0;

    /// <summary>Not an error: the batch is still in flight (poll).</summary>
    public const int Pending = -1;

    /// <summary>A null or malformed argument, an unknown or closed handle, a bad configuration: nothing was done.</summary>
    public const int InvalidArgument = -2;

    /// <summary>An output buffer is too small; the needed size was stored and nothing was consumed.</summary>
    public const int BufferTooSmall = -3;

    /// <summary>An unexpected failure inside the library; the last-error message names it.</summary>
    public const int Internal = -4;

    public static int Of(TransferErrorCode code) => (int)code;
}
