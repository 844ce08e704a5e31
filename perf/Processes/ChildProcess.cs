using System.Diagnostics;
using System.Text;
using System.Threading.Channels;

namespace PdRdma.Perf.Processes;

/// <summary>
/// A child process whose stdout arrives as lines and whose stderr is kept; killed (with its children) on dispose,
/// so that a failed benchmark never leaves a target or a server behind. Every wait is bounded by the caller's timeout.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly StringBuilder _stderr = new();
    private readonly string _name;

    // lines read past while waiting for another prefix; later waits see them first (replies may interleave)
    private readonly List<string> _backlog = [];

    private ChildProcess(Process process, string name)
    {
        _process = process;
        _name = name;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) _lines.Writer.TryComplete();
            else _lines.Writer.TryWrite(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (_stderr)
            {
                // keep the tail only: a chatty child must not grow this without bound
                if (_stderr.Length > 64 * 1024) _stderr.Remove(0, _stderr.Length - 32 * 1024);
                _stderr.AppendLine(e.Data);
            }
        };
    }

    public bool HasExited => _process.HasExited;

    public int Id => _process.Id;

    /// <summary>The exit code; only meaningful once <see cref="HasExited"/>.</summary>
    public int ExitCode => _process.HasExited ? _process.ExitCode : -1;

    public string StderrText
    {
        get { lock (_stderr) return _stderr.ToString(); }
    }

    public static ChildProcess Start(string fileName, IEnumerable<string> args, string name, bool redirectStdin = false) =>
        Start(Info(fileName, args), name, redirectStdin);

    public static ChildProcess Start(ProcessStartInfo info, string name, bool redirectStdin = false)
    {
        info.UseShellExecute = false;
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.RedirectStandardInput = redirectStdin;
        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {name} ({info.FileName})");
        var child = new ChildProcess(process, name);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Runs to completion; kills it when <paramref name="timeout"/> passes.</summary>
    public static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(string fileName, IEnumerable<string> args, TimeSpan timeout, CancellationToken ct,
        string? workingDirectory = null)
    {
        var info = Info(fileName, args);
        if (workingDirectory is not null) info.WorkingDirectory = workingDirectory;
        await using var child = Start(info, Path.GetFileName(fileName));
        var stdout = new StringBuilder();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        try
        {
            await foreach (var line in child._lines.Reader.ReadAllAsync(limit.Token)) stdout.AppendLine(line);
            await child._process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException($"{fileName} did not finish within {timeout.TotalSeconds:F0} s");
        }
        return (child._process.ExitCode, stdout.ToString(), child.StderrText);
    }

    /// <summary>The next stdout line, or null once stdout closed. Throws <see cref="TimeoutException"/> naming the child.</summary>
    public async Task<string?> ReadLineAsync(TimeSpan timeout, CancellationToken ct)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        try
        {
            return await _lines.Reader.WaitToReadAsync(limit.Token) && _lines.Reader.TryRead(out var line) ? line : null;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException($"{_name} said nothing for {timeout.TotalSeconds:F0} s; its stderr: {Tail(StderrText)}");
        }
    }

    /// <summary>
    /// Reads lines until one starts with <paramref name="prefix"/>; fails if the child exits first. Lines that do not
    /// match are kept for later calls. Not thread-safe: one reader at a time.
    /// </summary>
    public async Task<string> ExpectAsync(string prefix, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        var held = _backlog.FindIndex(l => l.StartsWith(prefix, StringComparison.Ordinal));
        if (held >= 0)
        {
            var line = _backlog[held];
            _backlog.RemoveAt(held);
            return line;
        }
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) throw new TimeoutException($"{_name} did not say '{prefix}' within {timeout.TotalSeconds:F0} s; its stderr: {Tail(StderrText)}");
            var line = await ReadLineAsync(left, ct);
            if (line is null)
            {
                // stdout closes just before the exit code is known
                await Task.WhenAny(_process.WaitForExitAsync(ct), Task.Delay(2000, ct));
                var exit = _process.HasExited ? _process.ExitCode.ToString(System.Globalization.CultureInfo.InvariantCulture) : "?";
                throw new InvalidOperationException($"{_name} exited ({exit}) before saying '{prefix}'; its stderr: {Tail(StderrText)}");
            }
            if (line.StartsWith(prefix, StringComparison.Ordinal)) return line;
            if (_backlog.Count < 10_000) _backlog.Add(line);
        }
    }

    public async Task WriteLineAsync(string line, CancellationToken ct)
    {
        await _process.StandardInput.WriteLineAsync(line.AsMemory(), ct);
        await _process.StandardInput.FlushAsync(ct);
    }

    /// <summary>Closes stdin (children that serve until stdin closes then exit) and waits up to <paramref name="grace"/>.</summary>
    public async Task<bool> CloseInputAndWaitAsync(TimeSpan grace)
    {
        try
        {
            if (_process.StartInfo.RedirectStandardInput) _process.StandardInput.Close();
        }
        catch (Exception e) when (e is InvalidOperationException or IOException)
        {
            // already gone
        }
        using var limit = new CancellationTokenSource(grace);
        try
        {
            await _process.WaitForExitAsync(limit.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                try { await _process.WaitForExitAsync(limit.Token); } catch (OperationCanceledException) { }
            }
        }
        catch (InvalidOperationException)
        {
            // it exited between the check and the kill
        }
        _process.Dispose();
    }

    private static ProcessStartInfo Info(string fileName, IEnumerable<string> args)
    {
        var info = new ProcessStartInfo(fileName);
        foreach (var arg in args) info.ArgumentList.Add(arg);
        return info;
    }

    private static string Tail(string text) => text.Length <= 2000 ? text.Trim() : "…" + text[^2000..].Trim();
}
