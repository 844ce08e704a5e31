#pragma warning disable CS8981 // named as in C, like the other verbs structs
using System.Runtime.InteropServices;

namespace PdRdma.Interop.Verbs.Native;

/// <summary>poll(2)'s descriptor entry, used to wait on completion-channel and async-event fds.</summary>
[CType("struct pollfd")]
[StructLayout(LayoutKind.Sequential)]
public struct pollfd
{
    public int fd;
    public short events;
    public short revents;
}
