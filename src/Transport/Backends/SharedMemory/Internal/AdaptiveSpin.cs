using System.Diagnostics;

namespace PdRdma.Transport.Backends.SharedMemory.Internal;

/// <summary>
/// How long one side busy-polls before it sleeps on a futex, learned per side: a spin that saw the other side answer
/// doubles the budget (up to <see cref="MaxMicroseconds"/>), one that timed out halves it (down to
/// <see cref="MinMicroseconds"/>). With a core each, the sides answer each other within a microsecond or two and keep
/// spinning; when they share a core (a busy machine) a spin only keeps the other side from running, the budget shrinks,
/// and the hand-over becomes a futex sleep and wake. Used by one thread at a time.
/// </summary>
internal sealed class AdaptiveSpin
{
    public const int MinMicroseconds = 2;
    public const int MaxMicroseconds = 64;

    private int _budget = MaxMicroseconds;

    /// <summary>Polls <paramref name="ready"/> for up to the current budget; true when it held.</summary>
    public bool Spin(Func<bool> ready)
    {
        var until = Stopwatch.GetTimestamp() + Stopwatch.Frequency * _budget / 1_000_000;
        do
        {
            for (var i = 0; i < 8; i++)
            {
                if (ready())
                {
                    _budget = Math.Min(MaxMicroseconds, _budget * 2);
                    return true;
                }
                Thread.SpinWait(8);
            }
        }
        while (Stopwatch.GetTimestamp() < until);
        if (ready()) return true;
        _budget = Math.Max(MinMicroseconds, _budget / 2);
        return false;
    }
}
