using PdRdma.Transport.LevelZero;

namespace PdRdma.Tests.Xpu;

/// <summary>
/// Points this test process's Level Zero loader at the test driver (once: the loader reads its variable at the first
/// zeInit) and opens xpu:0. Tests that need "no driver" run in a child process instead.
/// </summary>
public sealed class LevelZeroFixture : IDisposable
{
    private static readonly Lock Gate = new();
    private static bool s_driverChosen;

    public LevelZeroFixture()
    {
        if (LevelZeroFactAttribute.MissingReason() is not null) return;
        lock (Gate)
        {
            if (!s_driverChosen)
            {
                LevelZeroDevice.UseDriver(TestDriver.Path);
                s_driverChosen = true;
            }
        }
        Device = LevelZeroDevice.Open(0);
    }

    /// <summary>xpu:0 of the test driver; null where the fact skips.</summary>
    public LevelZeroDevice? Device { get; }

    public void Dispose() => Device?.Dispose();
}
