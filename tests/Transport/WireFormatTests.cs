using MessagePack;
using PdRdma.Transport;
using PdRdma.Transport.Internal.Wire;

namespace PdRdma.Tests.Transport;

public sealed class WireFormatTests
{
    [Fact]
    public void ARegionDescriptorRoundTripsWithItsKeysInPlace()
    {
        var descriptor = new RegionDescriptor
        {
            NodeId = "n1", RegionId = "kv", Length = 1 << 30, Kind = MemoryKind.Host, SharedPath = "/dev/shm/x",
            BackendKeys = new Dictionary<string, byte[]> { ["verbs"] = [1, 2, 3] },
        };
        var bytes = MessagePackSerializer.Serialize(descriptor, WireFormat.Options);
        var back = MessagePackSerializer.Deserialize<RegionDescriptor>(bytes, WireFormat.Options);
        Assert.Equal((descriptor.NodeId, descriptor.RegionId, descriptor.Length, descriptor.Kind, descriptor.SharedPath), (back.NodeId, back.RegionId, back.Length, back.Kind, back.SharedPath));
        Assert.Equal([1, 2, 3], back.BackendKeys!["verbs"]);

        // Integer keys: an array whose slots 5 and 6 are free (nil) for the verbs address and rkey; slot 8 is the pool layout.
        var reader = new MessagePackReader(bytes);
        Assert.Equal(9, reader.ReadArrayHeader());
        Assert.Equal("n1", reader.ReadString());
        Assert.Equal("kv", reader.ReadString());
        Assert.Equal(1L << 30, reader.ReadInt64());
        Assert.Equal((int)MemoryKind.Host, reader.ReadInt32());
        Assert.Equal("/dev/shm/x", reader.ReadString());
        Assert.True(reader.TryReadNil());
        Assert.True(reader.TryReadNil());
    }

    [Fact]
    public void AKvLayoutTravelsInADescriptorExchange()
    {
        var layout = new KvLayout(32, 8, 128, 16, KvDType.BFloat16, 4096);
        var setup = new SetupMessage { Layout = layout, Backends = ["shm", "tcp"] };
        var back = MessagePackSerializer.Deserialize<SetupMessage>(MessagePackSerializer.Serialize(setup, WireFormat.Options), WireFormat.Options);
        Assert.Equal(layout, back.Layout);
        Assert.Equal(layout.CompatibilityHash(), back.Layout!.CompatibilityHash());
    }

    [Fact]
    public void TheVersionOfAFutureHelloCanStillBeRead()
    {
        // A later version may append keys and change others; key 0 stays the version.
        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        var w = new MessagePackWriter(writer);
        w.WriteArrayHeader(9);
        w.Write(7);
        for (var i = 0; i < 8; i++) w.Write($"field {i}");
        w.Flush();
        var frame = new Frame(MessageType.Hello, writer.WrittenMemory);
        Assert.Equal(7, frame.Read<VersionProbe>().Version);
        var ex = Assert.Throws<TransferException>(() => frame.Read<HelloMessage>());
        Assert.Equal(TransferErrorCode.Protocol, ex.Code);
    }

    [Fact]
    public void GarbageIsAProtocolErrorNeverAnotherException()
    {
        var random = new Random(5);
        for (var i = 0; i < 2000; i++)
        {
            var body = new byte[random.Next(0, 64)];
            random.NextBytes(body);
            foreach (var read in new Action<Frame>[] { f => f.Read<HelloMessage>(), f => f.Read<BatchBeginMessage>(), f => f.Read<SetupMessage>(), f => f.Read<ErrorMessage>() })
            {
                try { read(new Frame(MessageType.Hello, body)); }
                catch (TransferException ex) { Assert.Equal(TransferErrorCode.Protocol, ex.Code); }
            }
        }
    }

    [Fact]
    public void ADeeplyNestedBodyIsRefused()
    {
        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        var w = new MessagePackWriter(writer);
        for (var i = 0; i < 10_000; i++) w.WriteArrayHeader(1);
        w.WriteNil();
        w.Flush();
        var ex = Assert.Throws<TransferException>(() => new Frame(MessageType.Setup, writer.WrittenMemory).Read<SetupMessage>());
        Assert.Equal(TransferErrorCode.Protocol, ex.Code);
    }
}
