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

    /// <summary>Version 2: several whole small writes of one batch, their bytes back to back, one MAC after them.</summary>
    DataRun = 16,

    /// <summary>Initiator asks for the window of a grant it will write under (once per grant and connection).</summary>
    OpenGrant = 17,

    /// <summary>The target's answer to <see cref="OpenGrant"/>: the window and the backend's keys, or why not.</summary>
    GrantWindow = 18,
    Error = 20,
}
