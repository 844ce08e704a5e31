namespace PdRdma.Transport.Internal.Wire;

/// <summary>First byte of every frame body. Values are never reused.</summary>
internal enum MessageType : byte
{
    Hello = 1,
    Setup = 2,
    Welcome = 3,
    SelectBackend = 4,
    BackendBlob = 5,
    BatchBegin = 10,
    Proceed = 11,
    DataChunk = 12,
    Commit = 13,
    Done = 14,
    Abort = 15,
    Error = 20,
}
