using System.Runtime.InteropServices;
using PdRdma.Interop.Verbs.Handles;
using PdRdma.Interop.Verbs.Native;

namespace PdRdma.Interop.Verbs;

public static unsafe partial class Ibv
{
    [LibraryImport(Library, SetLastError = true)]
    private static partial nint ibv_create_comp_channel(IbvContextHandle context);

    [LibraryImport(Library)]
    internal static partial int ibv_destroy_comp_channel(nint channel);

    [LibraryImport(Library, SetLastError = true)]
    private static partial nint ibv_create_cq(IbvContextHandle context, int cqe, nint cq_context, nint channel, int comp_vector);

    [LibraryImport(Library)]
    internal static partial int ibv_destroy_cq(nint cq);

    [LibraryImport(Library, SetLastError = true)]
    private static partial int ibv_get_cq_event(IbvCompChannelHandle channel, nint* cq, nint* cq_context);

    [LibraryImport(Library)]
    private static partial void ibv_ack_cq_events(IbvCqHandle cq, uint nevents);

    public static IbvCompChannelHandle CreateCompChannel(IbvContextHandle context)
    {
        var channel = new IbvCompChannelHandle();
        channel.Adopt(ibv_create_comp_channel(context), context);
        return channel;
    }

    /// <summary>Creates a CQ of at least <paramref name="entries"/> entries, optionally reporting to a completion channel.</summary>
    public static IbvCqHandle CreateCq(IbvContextHandle context, int entries, IbvCompChannelHandle? channel, int compVector)
    {
        var cq = new IbvCqHandle();
        nint native = ibv_create_cq(context, entries, 0, channel?.DangerousGetHandle() ?? 0, compVector);
        if (channel is null) cq.Adopt(native, context);
        else cq.Adopt(native, context, channel);
        return cq;
    }

    /// <summary>Blocks until the channel reports a CQ event; returns 0 and the CQ's native address, or -1 (errno).</summary>
    public static int GetCqEvent(IbvCompChannelHandle channel, out nint cq)
    {
        nint c, ctx;
        int rc = ibv_get_cq_event(channel, &c, &ctx);
        cq = c;
        return rc;
    }

    public static void AckCqEvents(IbvCqHandle cq, uint count) => ibv_ack_cq_events(cq, count);

    /// <summary>
    /// ibv_poll_cq (inline in verbs.h: a call through the context's ops table). Returns the number of
    /// completions written to <paramref name="completions"/>, or a negative value on error. Never blocks.
    /// </summary>
    public static int PollCq(IbvCqHandle cq, Span<ibv_wc> completions)
    {
        bool added = false;
        cq.DangerousAddRef(ref added);
        try
        {
            var native = (ibv_cq*)cq.DangerousGetHandle();
            var poll = (delegate* unmanaged<ibv_cq*, int, ibv_wc*, int>)native->context->ops.poll_cq;
            fixed (ibv_wc* wc = completions) return poll(native, completions.Length, wc);
        }
        finally
        {
            if (added) cq.DangerousRelease();
        }
    }

    /// <summary>ibv_req_notify_cq (inline in verbs.h): arm the CQ so its next completion raises a channel event.</summary>
    public static int ReqNotifyCq(IbvCqHandle cq, bool solicitedOnly)
    {
        bool added = false;
        cq.DangerousAddRef(ref added);
        try
        {
            var native = (ibv_cq*)cq.DangerousGetHandle();
            var notify = (delegate* unmanaged<ibv_cq*, int, int>)native->context->ops.req_notify_cq;
            return notify(native, solicitedOnly ? 1 : 0);
        }
        finally
        {
            if (added) cq.DangerousRelease();
        }
    }
}
