using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using PdRdma.Interop.Libc.Native;

namespace PdRdma.Interop.Libc;

/// <summary>
/// Passing one file descriptor with a message over a Unix-domain socket (SCM_RIGHTS): .NET's Socket has no call
/// for it. The receiver gets its own descriptor for the same open file (a dma-buf, a memfd), never a path.
/// Blocking calls; the socket's receive timeout (SO_RCVTIMEO) bounds the wait.
/// </summary>
public static unsafe partial class UnixRights
{
    private const int SolSocket = 1;
    private const int ScmRights = 1;
    private const int MsgCtrunc = 0x8;
    private const int MsgCmsgCloexec = 0x40000000;
    private const int MsgNoSignal = 0x4000;
    private const int Eintr = 4;

    [LibraryImport("libc", EntryPoint = "sendmsg", SetLastError = true)]
    private static partial nint SendMsg(SafeHandle socket, msghdr* message, int flags);

    [LibraryImport("libc", EntryPoint = "recvmsg", SetLastError = true)]
    private static partial nint RecvMsg(SafeHandle socket, msghdr* message, int flags);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    private const int MaxDescriptors = 4;

    private static int Align(int n) => (n + nint.Size - 1) & ~(nint.Size - 1);

    /// <summary>Sends <paramref name="payload"/> (at least one byte) and, when given, one descriptor. Throws IOException with errno.</summary>
    public static void Send(SafeHandle socket, ReadOnlySpan<byte> payload, SafeHandle? descriptor) =>
        SendMany(socket, payload, descriptor is null ? [] : [descriptor]);

    /// <summary>Sends <paramref name="payload"/> with up to four descriptors in one SCM_RIGHTS message.</summary>
    public static void SendMany(SafeHandle socket, ReadOnlySpan<byte> payload, ReadOnlySpan<SafeHandle> descriptors)
    {
        if (payload.IsEmpty) throw new ArgumentException("a message with a descriptor must carry at least one byte", nameof(payload));
        if (descriptors.Length > MaxDescriptors) throw new ArgumentOutOfRangeException(nameof(descriptors), descriptors.Length, $"at most {MaxDescriptors} descriptors");
        var space = Align(sizeof(cmsghdr) + sizeof(int) * MaxDescriptors);
        var control = stackalloc byte[space];
        new Span<byte>(control, space).Clear();
        var added = 0;
        try
        {
            var header = (cmsghdr*)control;
            header->cmsg_len = (nuint)(sizeof(cmsghdr) + sizeof(int) * descriptors.Length);
            header->cmsg_level = SolSocket;
            header->cmsg_type = ScmRights;
            for (; added < descriptors.Length; added++)
            {
                bool ok = false;
                descriptors[added].DangerousAddRef(ref ok);
                ((int*)(control + sizeof(cmsghdr)))[added] = (int)descriptors[added].DangerousGetHandle();
            }
            fixed (byte* data = payload)
            {
                var io = new iovec { iov_base = data, iov_len = (nuint)payload.Length };
                var message = new msghdr
                {
                    msg_iov = &io,
                    msg_iovlen = 1,
                    msg_control = descriptors.IsEmpty ? null : control,
                    msg_controllen = descriptors.IsEmpty ? 0 : (nuint)Align(sizeof(cmsghdr) + sizeof(int) * descriptors.Length),
                };
                nint sent;
                do sent = SendMsg(socket, &message, MsgNoSignal);
                while (sent < 0 && Marshal.GetLastPInvokeError() == Eintr);
                if (sent < 0) throw Error("sendmsg");
                if (sent != payload.Length) throw new IOException($"sendmsg sent {sent} of {payload.Length} bytes");
            }
        }
        finally
        {
            for (var i = 0; i < added; i++) descriptors[i].DangerousRelease();
        }
    }

    /// <summary>
    /// Receives one message into <paramref name="buffer"/>; returns its length (0 at end of stream) and the descriptor
    /// that came with it, or null. A message with more than one descriptor, or a truncated control part, is refused
    /// (every received descriptor is closed) with InvalidDataException.
    /// </summary>
    public static int Receive(SafeHandle socket, Span<byte> buffer, out SafeFileHandle? descriptor)
    {
        descriptor = null;
        const int controlBytes = 64;
        var control = stackalloc byte[controlBytes];
        new Span<byte>(control, controlBytes).Clear();
        fixed (byte* data = buffer)
        {
            var io = new iovec { iov_base = data, iov_len = (nuint)buffer.Length };
            var message = new msghdr { msg_iov = &io, msg_iovlen = 1, msg_control = control, msg_controllen = controlBytes };
            nint received;
            do received = RecvMsg(socket, &message, MsgCmsgCloexec);
            while (received < 0 && Marshal.GetLastPInvokeError() == Eintr);
            if (received < 0) throw Error("recvmsg");

            var fds = new List<int>();
            for (var offset = 0; offset + sizeof(cmsghdr) <= (int)message.msg_controllen;)
            {
                var header = (cmsghdr*)(control + offset);
                if ((int)header->cmsg_len < sizeof(cmsghdr)) break;
                if (header->cmsg_level == SolSocket && header->cmsg_type == ScmRights)
                {
                    var count = ((int)header->cmsg_len - sizeof(cmsghdr)) / sizeof(int);
                    for (var i = 0; i < count; i++) fds.Add(((int*)(control + offset + sizeof(cmsghdr)))[i]);
                }
                offset += Align((int)header->cmsg_len);
            }
            if ((message.msg_flags & MsgCtrunc) != 0 || fds.Count > 1)
            {
                foreach (var fd in fds) Close(fd);
                throw new InvalidDataException($"a message carried {(fds.Count > 1 ? fds.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) : "truncated")} descriptors; one is allowed");
            }
            if (fds.Count == 1) descriptor = new SafeFileHandle(fds[0], ownsHandle: true);
            return (int)received;
        }
    }

    private static IOException Error(string call)
    {
        var errno = Marshal.GetLastPInvokeError();
        return new IOException($"{call} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})", errno);
    }
}
