namespace PdRdma.Transport.Backends;

/// <summary>What a backend can do; the agent chooses and validates by these, never by type.</summary>
/// <param name="MemoryKinds">Kinds of region it can read from and write into.</param>
/// <param name="Notifications">Whether it can order a notification after the batch's data (all current backends can).</param>
/// <param name="SameHostOnly">Only between agents with the same host id (shared memory).</param>
/// <param name="DataOverControlLink">The bytes travel as data frames on the control link, and the target agent places
/// them (tcp). False: the backend places them itself, one-sided (shm, verbs), and data frames are a protocol error.</param>
public sealed record BackendCapabilities(IReadOnlySet<MemoryKind> MemoryKinds, bool Notifications, bool SameHostOnly, bool DataOverControlLink)
{
    /// <summary>
    /// The backend publishes grants (<see cref="IBackendLink.PublishGrantAsync"/>) so that a batch naming a grant the
    /// initiator opened moves its data with no proceed round trip (issue 10): the backend makes writes outside a live
    /// grant fail where they land (verbs: memory windows in the NIC; shm: the shared grant table the initiator checks).
    /// False: a batch that needs the target's go-ahead waits for it (unless the data travels on the control link).
    /// </summary>
    public bool GrantWindows { get; init; }
}
