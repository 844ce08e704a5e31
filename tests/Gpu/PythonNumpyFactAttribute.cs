namespace PdRdma.Tests.Gpu;

/// <summary>A fact that runs a project Python script with numpy; skipped with the reason where /usr/bin/python3 or numpy is missing.</summary>
public sealed class PythonNumpyFactAttribute : FactAttribute
{
    public PythonNumpyFactAttribute()
    {
        if (ScriptProcess.NumpyMissing is { } why) Skip = why;
    }
}
