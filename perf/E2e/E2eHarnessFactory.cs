namespace PdRdma.Perf.E2e;

/// <summary>Builds the engines' harnesses for the models asked for; says why when it cannot.</summary>
public static class E2eHarnessFactory
{
    public static async Task<IReadOnlyList<IE2eHarness>> CreateAsync(E2eOptions options, List<string> notes, CancellationToken ct)
    {
        var harnesses = new List<IE2eHarness>();
        foreach (var model in options.Models)
        {
            try
            {
                harnesses.Add(await EngineE2eHarness.CreateAsync(model, options, ct));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                notes.Add($"e2e {model}: could not start the engines: {e.Message}");
            }
        }
        return harnesses;
    }
}
