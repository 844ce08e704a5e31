using System.Runtime.InteropServices;
using PdRdma.Interop.Verbs.Native;

namespace PdRdma.Interop.Verbs;

public static unsafe partial class Ibv
{
    /// <summary>POLLIN: data to read (a completion or async event is pending).</summary>
    public const short PollIn = 0x001;

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static partial int libc_poll(pollfd* fds, nuint nfds, int timeout);

    /// <summary>
    /// Waits up to <paramref name="timeoutMs"/> for the verbs file descriptors in <paramref name="fds"/>
    /// (ibv_comp_channel.fd, ibv_context.async_fd) to become readable, so pollers can sleep without
    /// blocking forever in ibv_get_cq_event and still notice shutdown. Returns poll(2)'s result.
    /// </summary>
    public static int WaitReadable(Span<pollfd> fds, int timeoutMs)
    {
        fixed (pollfd* p = fds) return libc_poll(p, (nuint)fds.Length, timeoutMs);
    }

    /// <summary>The fd of a completion channel.</summary>
    public static int CompChannelFd(Handles.IbvCompChannelHandle channel) => ((ibv_comp_channel*)channel.DangerousGetHandle())->fd;
}
