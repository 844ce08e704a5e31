namespace PdRdma.Engines.Sampling;

/// <summary>llama2.c's xorshift* generator, so that seeded runs draw the same numbers as run.c. Not thread-safe.</summary>
public sealed class XorShiftRng
{
    public XorShiftRng(ulong state) => State = state;

    /// <summary>The 64-bit state; carrying it to another process continues the same stream.</summary>
    public ulong State { get; private set; }

    public uint NextUInt32()
    {
        var s = State;
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        State = s;
        return (uint)((s * 0x2545F4914F6CDD1DUL) >> 32);
    }

    /// <summary>A float in [0, 1) from the top 24 bits, as run.c's random_f32.</summary>
    public float NextFloat() => (NextUInt32() >> 8) / 16777216.0f;
}
