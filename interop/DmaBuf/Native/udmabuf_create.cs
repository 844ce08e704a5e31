#pragma warning disable CS8981 // named as in C
using System.Runtime.InteropServices;
using PdRdma.Interop.Verbs.Native;

namespace PdRdma.Interop.DmaBuf.Native;

/// <summary>Argument of UDMABUF_CREATE (linux/udmabuf.h): a sealed memfd range to export as a dma-buf.</summary>
[CType("struct udmabuf_create")]
[StructLayout(LayoutKind.Sequential)]
public struct udmabuf_create
{
    public uint memfd;
    public uint flags;
    public ulong offset;
    public ulong size;
}
