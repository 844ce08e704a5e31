namespace PdRdma.Interop.Cuda;

/// <summary>CUresult values the callers branch on; any other value is reported by name via cuGetErrorName.</summary>
public enum CudaResult
{
    Success = 0,
    InvalidValue = 1,
    OutOfMemory = 2,
    NotInitialized = 3,
    NoDevice = 100,
    InvalidDevice = 101,
    NotSupported = 801,
}
