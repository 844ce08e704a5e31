using PdRdma.Hosting.Processes;

namespace PdRdma.Hosting.Clusters;

/// <summary>
/// The parts of a local cluster (daemons, engines, proxy): each a recipe — namespace, pdrdma arguments, the URL that
/// answers once it is up — started (or restarted after a kill) on demand and waited for, logged to its own file,
/// and stopped together. Thread-safe.
/// </summary>
public sealed class PartSupervisor
{
    private readonly Dictionary<string, (string? Namespace, string[] Args, string Ready)> _recipes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ChildProcess> _parts = new(StringComparer.Ordinal);
    private readonly string _logDirectory;
    private readonly TimeSpan _startTimeout;

    /// <summary>Parts log to <paramref name="logDirectory"/>/NAME.log and must answer within <paramref name="startTimeout"/>.</summary>
    public PartSupervisor(string logDirectory, TimeSpan startTimeout)
    {
        _logDirectory = logDirectory;
        _startTimeout = startTimeout;
    }

    /// <summary>The started parts by name (a snapshot).</summary>
    public IReadOnlyDictionary<string, ChildProcess> Parts
    {
        get { lock (_parts) return new Dictionary<string, ChildProcess>(_parts, StringComparer.Ordinal); }
    }

    /// <summary>The recipes' names, in the order they were added.</summary>
    public IReadOnlyList<string> Names
    {
        get { lock (_recipes) return [.. _recipes.Keys]; }
    }

    /// <summary>Adds or replaces the recipe of part <paramref name="name"/>: <c>pdrdma ARGS</c>, inside <paramref name="ns"/> when given.</summary>
    public void Recipe(string name, string? ns, string[] args, string readyUrl)
    {
        lock (_recipes) _recipes[name] = (string.IsNullOrEmpty(ns) ? null : ns, args, readyUrl);
    }

    /// <summary>Forgets the recipes not in <paramref name="keep"/> (a node that runs on another host).</summary>
    public void KeepOnly(IReadOnlyCollection<string> keep)
    {
        lock (_recipes)
        {
            foreach (var name in _recipes.Keys.Where(k => !keep.Contains(k)).ToList()) _recipes.Remove(name);
        }
    }

    /// <summary>Starts the parts whose names satisfy <paramref name="which"/>, in parallel, and waits until all answer.</summary>
    public Task StartAllAsync(Func<string, bool> which, CancellationToken ct) =>
        Task.WhenAll(Names.Where(which).Select(name => StartAsync(name, ct)));

    /// <summary>Starts (or restarts after a kill) part <paramref name="name"/> and waits until its ready URL answers.</summary>
    public async Task StartAsync(string name, CancellationToken ct)
    {
        (string? Namespace, string[] Args, string Ready) recipe;
        lock (_recipes) recipe = _recipes[name];
        ChildProcess? old;
        lock (_parts) _parts.Remove(name, out old);
        old?.Dispose();
        string[] command = [.. recipe.Namespace is { } ns ? Network.NamespacePair.Exec(ns) : [], .. PdrdmaProgram.Cli.Line(recipe.Args)];
        var part = ChildProcess.Start(name, command, Path.Combine(_logDirectory, name + ".log"));
        lock (_parts) _parts[name] = part;
        await HealthProbe.WaitAsync(part, recipe.Ready, _startTimeout, ct).ConfigureAwait(false);
    }

    /// <summary>SIGKILL part <paramref name="name"/>, as a crash would.</summary>
    public void Kill(string name)
    {
        lock (_parts) _parts[name].Kill();
    }

    /// <summary>Stops every part (SIGTERM, then SIGKILL after a short grace) and removes what killed ones left.</summary>
    public async Task StopAllAsync()
    {
        List<ChildProcess> parts;
        lock (_parts) parts = [.. _parts.Values];
        await Task.WhenAll(parts.Select(p => p.StopAsync(TimeSpan.FromSeconds(3)))).ConfigureAwait(false);
        foreach (var part in parts) part.Dispose();
    }

    /// <summary>Synchronous last-resort stop (process exit, Ctrl-C): SIGKILL every part.</summary>
    public void KillAll()
    {
        List<ChildProcess> parts;
        lock (_parts) parts = [.. _parts.Values];
        foreach (var part in parts)
        {
            part.Kill();
            RegionFiles.RemoveOf(part.Id);
        }
    }
}
