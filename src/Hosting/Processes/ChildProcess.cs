using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace PdRdma.Hosting.Processes;

/// <summary>
/// A started process (a pdrdma part, etcd, iperf3, a benchmark peer). Its stdout arrives as lines (awaitable, with a
/// timeout that names the child), its stderr tail is kept, and with a log path both streams also go to that file.
/// Stop asks with SIGTERM first (so the part removes its files), then kills the whole tree; Kill and Dispose are
/// idempotent, so no caller ever leaves a process behind. Not thread-safe for concurrent readers of stdout.
/// </summary>
public sealed class ChildProcess : IDisposable, IAsyncDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly StringBuilder _stderr = new();
    private readonly StreamWriter? _log;

    // lines read past while waiting for another prefix; later waits see them first (replies may interleave)
    private readonly List<string> _backlog = [];
    private int _disposed;

    private ChildProcess(string name, Process process, string? logPath, string[] command)
    {
        Name = name;
        _process = process;
        LogPath = logPath;
        Command = command;
        if (logPath is not null) _log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                _lines.Writer.TryComplete();
                return;
            }
            Log(e.Data);
            _lines.Writer.TryWrite(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            Log(e.Data);
            lock (_stderr)
            {
                // keep the tail only: a chatty child must not grow this without bound
                if (_stderr.Length > 64 * 1024) _stderr.Remove(0, _stderr.Length - 32 * 1024);
                _stderr.AppendLine(e.Data);
            }
        };
    }

    /// <summary>The name used in messages (e.g. "daemon-a", "etcd").</summary>
    public string Name { get; }

    /// <summary>The file both output streams are appended to, or null when only kept in memory.</summary>
    public string? LogPath { get; }

    /// <summary>The command line it was started with (program first).</summary>
    public string[] Command { get; }

    /// <summary>The process id.</summary>
    public int Id => _process.Id;

    /// <summary>Whether the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>The exit code; -1 while it runs.</summary>
    public int ExitCode => _process.HasExited ? _process.ExitCode : -1;

    /// <summary>The kept tail of stderr.</summary>
    public string Stderr
    {
        get { lock (_stderr) return _stderr.ToString(); }
    }

    /// <summary>Starts <paramref name="command"/> (program first) with stdout and stderr captured.</summary>
    /// <param name="name">Used in messages.</param>
    /// <param name="command">Program and arguments.</param>
    /// <param name="logPath">Where both streams are appended too, or null.</param>
    /// <param name="redirectStdin">Keep stdin as a pipe (children that serve until it closes).</param>
    /// <param name="environment">Extra environment variables.</param>
    public static ChildProcess Start(string name, IReadOnlyList<string> command, string? logPath = null, bool redirectStdin = false,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(command[0])
        {
            UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = redirectStdin,
        };
        foreach (var arg in command.Skip(1)) info.ArgumentList.Add(arg);
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        if (environment is not null)
        {
            foreach (var (key, value) in environment) info.Environment[key] = value;
        }
        var process = new Process { StartInfo = info };
        var child = new ChildProcess(name, process, logPath, [.. command]);
        try
        {
            if (!process.Start()) throw new InvalidOperationException($"could not start {name} ({command[0]})");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            child._log?.Dispose();
            throw new InvalidOperationException($"could not start {name} ({command[0]}): {e.Message}", e);
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Runs <paramref name="command"/> to its end; kills it and throws <see cref="TimeoutException"/> when <paramref name="timeout"/> passes.</summary>
    public static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(IReadOnlyList<string> command, TimeSpan timeout, CancellationToken ct,
        string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(command[0]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in command.Skip(1)) info.ArgumentList.Add(arg);
        if (workingDirectory is not null) info.WorkingDirectory = workingDirectory;
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {command[0]}");
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        var stdout = process.StandardOutput.ReadToEndAsync(limit.Token);
        var stderr = process.StandardError.ReadToEndAsync(limit.Token);
        try
        {
            await process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
            return (process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            if (ct.IsCancellationRequested) throw;
            throw new TimeoutException($"`{string.Join(' ', command)}` did not finish within {timeout.TotalSeconds:F0} s");
        }
    }

    /// <summary>Runs a host command (ip, sysctl) to its end; a non-zero exit is an <see cref="InvalidOperationException"/> with its stderr.</summary>
    public static async Task RunCheckedAsync(CancellationToken ct, params string[] command)
    {
        var (exit, _, stderr) = await RunAsync(command, TimeSpan.FromSeconds(30), ct).ConfigureAwait(false);
        if (exit != 0) throw new InvalidOperationException($"`{string.Join(' ', command)}` failed ({exit}): {stderr.Trim()}");
    }

    /// <summary>Runs a cleanup command and ignores its failure (the thing may already be gone).</summary>
    public static async Task TryRunAsync(params string[] command)
    {
        try
        {
            await RunAsync(command, TimeSpan.FromSeconds(10), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
        {
        }
    }

    /// <summary>Synchronous <see cref="TryRunAsync"/> for last-resort cleanup (process exit, Ctrl-C).</summary>
    public static void TryRun(params string[] command)
    {
        try
        {
            var info = new ProcessStartInfo(command[0]) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var arg in command[1..]) info.ArgumentList.Add(arg);
            using var process = Process.Start(info);
            process?.WaitForExit(5000);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
        }
    }

    /// <summary>The next stdout line, or null once stdout closed. Throws <see cref="TimeoutException"/> naming the child.</summary>
    public async Task<string?> ReadLineAsync(TimeSpan timeout, CancellationToken ct)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        try
        {
            return await _lines.Reader.WaitToReadAsync(limit.Token).ConfigureAwait(false) && _lines.Reader.TryRead(out var line) ? line : null;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException($"{Name} said nothing for {timeout.TotalSeconds:F0} s; its stderr: {Trimmed(Stderr)}");
        }
    }

    /// <summary>
    /// Reads lines until one starts with <paramref name="prefix"/>; fails if the child exits first. Lines that do not
    /// match are kept for later calls.
    /// </summary>
    public async Task<string> ExpectAsync(string prefix, TimeSpan timeout, CancellationToken ct)
    {
        var held = _backlog.FindIndex(l => l.StartsWith(prefix, StringComparison.Ordinal));
        if (held >= 0)
        {
            var line = _backlog[held];
            _backlog.RemoveAt(held);
            return line;
        }
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) throw new TimeoutException($"{Name} did not say '{prefix}' within {timeout.TotalSeconds:F0} s; its stderr: {Trimmed(Stderr)}");
            var line = await ReadLineAsync(left, ct).ConfigureAwait(false);
            if (line is null)
            {
                // stdout closes just before the exit code is known
                await Task.WhenAny(_process.WaitForExitAsync(ct), Task.Delay(2000, ct)).ConfigureAwait(false);
                var exit = _process.HasExited ? _process.ExitCode.ToString(CultureInfo.InvariantCulture) : "?";
                throw new InvalidOperationException($"{Name} exited ({exit}) before saying '{prefix}'; its stderr: {Trimmed(Stderr)}");
            }
            if (line.StartsWith(prefix, StringComparison.Ordinal)) return line;
            if (_backlog.Count < 10_000) _backlog.Add(line);
        }
    }

    /// <summary>The next stdout JSON object whose "event" is <paramref name="eventName"/> (any object when null); other lines are skipped.</summary>
    public async Task<JsonElement> ReadJsonAsync(TimeSpan timeout, string? eventName = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            string? line = null;
            if (left > TimeSpan.Zero)
            {
                try
                {
                    line = await ReadLineAsync(left, CancellationToken.None).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                }
            }
            if (line is null)
            {
                throw new TimeoutException($"no {eventName ?? "JSON"} line from {Name} (pid {Id}) within {timeout.TotalSeconds} s (exited: {HasExited}); stderr:\n{Stderr}");
            }
            if (!line.StartsWith('{')) continue;
            var json = JsonDocument.Parse(line).RootElement;
            if (eventName is null || (json.TryGetProperty("event", out var e) && e.GetString() == eventName)) return json;
        }
    }

    /// <summary>Writes one line to stdin (started with redirectStdin).</summary>
    public async Task WriteLineAsync(string line, CancellationToken ct)
    {
        await _process.StandardInput.WriteLineAsync(line.AsMemory(), ct).ConfigureAwait(false);
        await _process.StandardInput.FlushAsync(ct).ConfigureAwait(false);
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
            await _process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Waits for the exit (bounded by <paramref name="ct"/>).</summary>
    public Task WaitForExitAsync(CancellationToken ct) => _process.WaitForExitAsync(ct);

    /// <summary>Waits for the exit up to <paramref name="timeout"/> and returns the exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        return _process.ExitCode;
    }

    /// <summary>SIGKILL to the whole tree, as a crash would.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // it exited between the check and the kill
        }
    }

    /// <summary>SIGTERM, then SIGKILL after <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (_process.HasExited) return;
        try
        {
            Terminate();
            using var bounded = new CancellationTokenSource(grace);
            await _process.WaitForExitAsync(bounded.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            Kill();
        }
    }

    /// <summary>The last <paramref name="lines"/> lines of the log (or of stderr when there is no log).</summary>
    public string Tail(int lines = 20)
    {
        if (LogPath is null) return string.Join('\n', Stderr.Split('\n').TakeLast(lines));
        try
        {
            using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            return string.Join('\n', reader.ReadToEnd().Split('\n').TakeLast(lines));
        }
        catch (IOException e)
        {
            return $"(log unreadable: {e.Message})";
        }
    }

    /// <summary>SIGTERM with a short grace (so the part removes its files), then SIGKILL; then the region files a killed child left.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        var pid = _process.Id;
        try
        {
            if (!_process.HasExited)
            {
                Terminate();
                if (!_process.WaitForExit(3000)) Kill();
            }
            _process.WaitForExit(5000);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
        }
        Kill();
        _process.Dispose();
        lock (_lines) _log?.Dispose();
        RegionFiles.RemoveOf(pid);
    }

    /// <inheritdoc cref="Dispose"/>
    public async ValueTask DisposeAsync()
    {
        if (Volatile.Read(ref _disposed) != 0) return;
        await StopAsync(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
        Dispose();
    }

    private void Terminate()
    {
        using var term = Process.Start(new ProcessStartInfo("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false });
        term?.WaitForExit(2000);
    }

    private void Log(string line)
    {
        if (_log is null) return;
        lock (_lines)
        {
            if (Volatile.Read(ref _disposed) == 0) _log.WriteLine(line);
        }
    }

    private static string Trimmed(string text) => text.Length <= 2000 ? text.Trim() : "…" + text[^2000..].Trim();
}
