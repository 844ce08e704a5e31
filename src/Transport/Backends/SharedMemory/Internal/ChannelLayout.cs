namespace PdRdma.Transport.Backends.SharedMemory.Internal;

/// <summary>
/// Where everything lives in a connection's channel file. Control words sit one per cache line (the two sides write
/// different lines); then the batch ring (initiator → target), the error ring (target → initiator) and, last and page
/// aligned, the grant table, which the initiator maps read-only. All integers little-endian (same host).
/// </summary>
internal static class ChannelLayout
{
    public const ulong Magic = 0x31484348_4D485350; // "PSHMHCH1"
    public const int Version = 1;
    public const int Page = 4096;

    // control page: offsets of the words
    public const int MagicAt = 0;
    public const int VersionAt = 8;
    public const int RingBytesAt = 12;
    public const int ErrorSlotsAt = 16;
    public const int GrantSlotsAt = 20;
    public const int RequiresGrantAt = 24;

    /// <summary>int64, written by the initiator: bytes posted into the ring so far (monotonic).</summary>
    public const int TailAt = 64;

    /// <summary>int64, written by the target: bytes consumed from the ring so far (monotonic).</summary>
    public const int HeadAt = 128;

    /// <summary>int32 futex word the target sleeps on (bumped by the initiator after each post) and its "asleep" flag.</summary>
    public const int DoorbellAt = 192;
    public const int TargetWaitingAt = 196;

    /// <summary>int32 futex word the initiator sleeps on when the ring is full (bumped by the target as it frees space).</summary>
    public const int SpaceDoorbellAt = 256;
    public const int ProducerWaitingAt = 260;

    /// <summary>int64, written by the target: every batch up to this ticket is finished (placed, checked, notified or refused).</summary>
    public const int CompletedAt = 320;

    /// <summary>int32 futex word the initiator's completion poller sleeps on (bumped by the target after completions).</summary>
    public const int CompletionDoorbellAt = 384;
    public const int InitiatorWaitingAt = 388;

    /// <summary>int64, written by the target: error entries posted so far.</summary>
    public const int ErrorTailAt = 448;

    /// <summary>int64, written by the initiator: error entries read so far.</summary>
    public const int ErrorHeadAt = 512;

    /// <summary>int32, written by the target: non-zero once it stopped serving the channel (the connection failed).</summary>
    public const int TargetClosedAt = 576;

    public const int RingAt = Page;

    /// <summary>Batch record header; writes follow, then the notification; each record padded to <see cref="RecordAlign"/>.</summary>
    public const int RecordHeaderBytes = 64;
    public const int RecordAlign = 64;
    public const int WriteBytes = 24;

    // record header fields
    public const int RecLength = 0;      // uint32, whole record incl. header and padding
    public const int RecKind = 4;        // uint32
    public const int RecTicket = 8;      // int64
    public const int RecBatchId = 16;    // int64
    public const int RecWriteCount = 24; // int32
    public const int RecNotification = 28; // int32 bytes, -1: none
    public const int RecFlags = 32;      // int32
    public const int RecGrantSlot = 36;  // int32, -1: none
    public const int RecGrantGeneration = 40; // int64
    public const int RecChecksum = 48;   // uint64

    public const uint KindPad = 1;
    public const uint KindBatch = 2;
    public const int FlagXxHash3 = 1;

    // error entry
    public const int ErrorEntryBytes = 256;
    public const int ErrTicket = 0;      // int64
    public const int ErrBatchId = 8;     // int64
    public const int ErrCode = 16;       // int32
    public const int ErrMessageLength = 20; // int32
    public const int ErrMessage = 24;
    public const int ErrMessageMax = ErrorEntryBytes - ErrMessage;

    // grant slot
    public const int GrantSlotBytes = 32;
    public const int GrantGeneration = 0; // int64
    public const int GrantLive = 8;       // int32
    public const int GrantExpires = 16;   // int64, Unix ms

    public const int DefaultRingBytes = 2 << 20;
    public const int DefaultErrorSlots = 64;
    public const int DefaultGrantSlots = 1024;

    public static long ErrorsAt(int ringBytes) => RingAt + ringBytes;

    public static long GrantsAt(int ringBytes, int errorSlots) => Align(ErrorsAt(ringBytes) + (long)errorSlots * ErrorEntryBytes, Page);

    public static long FileBytes(int ringBytes, int errorSlots, int grantSlots) => Align(GrantsAt(ringBytes, errorSlots) + (long)grantSlots * GrantSlotBytes, Page);

    public static long Align(long value, long to) => (value + to - 1) / to * to;
}
