namespace PdRdma.Transport;

/// <summary>
/// A host mirror of a device region: a <see cref="HostRegion"/> of the same length (a file other processes on this
/// host can map: the node daemon, a NIC's registration) and the copies between the two. Whoever moves bytes out of
/// the device region calls <see cref="StageOut"/> first; whoever received bytes into the mirror calls
/// <see cref="StageIn"/> before the device reads them. Offsets are the same in both. One owner; not synchronised.
/// </summary>
public sealed class HostStaging : IDisposable
{
    private const int CopyStep = 1 << 30;

    private HostStaging(IDeviceMemory device, HostRegion host)
    {
        Device = device;
        Host = host;
    }

    /// <summary>The device region mirrored.</summary>
    public IDeviceMemory Device { get; }

    /// <summary>The host mirror (id: the device region's id + ".staging").</summary>
    public HostRegion Host { get; }

    /// <summary>Creates a zeroed mirror of <paramref name="device"/> under <paramref name="directory"/> (default /dev/shm).</summary>
    public static HostStaging Create(IDeviceMemory device, string? directory = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        return new HostStaging(device, HostRegion.Create(device.Id + ".staging", device.Length, directory));
    }

    /// <summary>Device → mirror for [offset, offset+length).</summary>
    public void StageOut(long offset, long length)
    {
        Check(offset, length);
        for (long done = 0; done < length; done += CopyStep)
        {
            int n = (int)Math.Min(CopyStep, length - done);
            Device.Read(offset + done, Host.AsSpan(offset + done, n));
        }
    }

    /// <summary>Mirror → device for [offset, offset+length).</summary>
    public void StageIn(long offset, long length)
    {
        Check(offset, length);
        for (long done = 0; done < length; done += CopyStep)
        {
            int n = (int)Math.Min(CopyStep, length - done);
            Device.Write(offset + done, Host.AsSpan(offset + done, n));
        }
    }

    /// <summary>Device → mirror for each extent; every extent is checked before the first byte moves.</summary>
    public void StageOut(IReadOnlyList<ByteExtent> extents)
    {
        foreach (var e in extents) Check(e.Offset, e.Length);
        foreach (var e in extents) StageOut(e.Offset, e.Length);
    }

    /// <summary>Mirror → device for each extent; every extent is checked before the first byte moves.</summary>
    public void StageIn(IReadOnlyList<ByteExtent> extents)
    {
        foreach (var e in extents) Check(e.Offset, e.Length);
        foreach (var e in extents) StageIn(e.Offset, e.Length);
    }

    private void Check(long offset, long length)
    {
        if (offset < 0 || length < 0 || offset > Device.Length - length)
            throw new TransferException(TransferErrorCode.OutOfBounds, $"[{offset}, {offset + length}) is outside device region '{Device.Id}' of {Device.Length} bytes");
    }

    /// <summary>Removes the mirror; the device region is the caller's.</summary>
    public void Dispose() => Host.Dispose();
}
