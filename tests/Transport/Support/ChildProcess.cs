using System.Diagnostics;
using System.Text.Json;
using System.Threading.Channels;

namespace PdRdma.Tests.Transport.Support;

/// <summary>
/// A `pdrdma` child (optionally inside a network namespace) whose stdout JSON lines can be awaited with a timeout.
/// Killed with its tree on dispose, so no test leaves a process behind.
/// </summary>
public sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly List<string> _stderr = new();

    private ChildProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => { if (e.Data is { } line) _lines.Writer.TryWrite(line); else _lines.Writer.TryComplete(); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is { } line) lock (_stderr) _stderr.Add(line); };
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Stderr { get { lock (_stderr) return string.Join('\n', _stderr); } }

    /// <summary>Starts `dotnet pdrdma.dll args` (next to the test assembly), inside <paramref name="netns"/> when given.</summary>
    public static ChildProcess StartCli(string? netns, params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "pdrdma.dll");
        var info = new ProcessStartInfo { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        if (netns is not null)
        {
            info.FileName = "ip";
            foreach (var a in new[] { "netns", "exec", netns, "dotnet", dll }) info.ArgumentList.Add(a);
        }
        else
        {
            info.FileName = "dotnet";
            info.ArgumentList.Add(dll);
        }
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        return new ChildProcess(new Process { StartInfo = info });
    }

    /// <summary>The next stdout JSON line whose "event" (when <paramref name="eventName"/> is set) matches.</summary>
    public async Task<JsonElement> ReadJsonAsync(TimeSpan timeout, string? eventName = null)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                var line = await _lines.Reader.ReadAsync(cts.Token);
                if (!line.StartsWith('{')) continue;
                var json = JsonDocument.Parse(line).RootElement;
                if (eventName is null || (json.TryGetProperty("event", out var e) && e.GetString() == eventName)) return json;
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException)
        {
            throw new TimeoutException($"no {eventName ?? "JSON"} line from pid {_process.Id} within {timeout.TotalSeconds} s (exited: {_process.HasExited}); stderr:\n{Stderr}");
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public void Kill()
    {
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
    }

    /// <summary>
    /// Asks the child to stop (SIGTERM: it removes its region files), kills it if it does not within 3 s, and then
    /// removes any region file a killed child left behind (HostRegion names them pdrdma.PID.*).
    /// </summary>
    public void Dispose()
    {
        var pid = _process.Id;
        try
        {
            if (!_process.HasExited)
            {
                using (var term = Process.Start(new ProcessStartInfo("kill", ["-TERM", pid.ToString()]) { UseShellExecute = false }))
                {
                    term?.WaitForExit(2000);
                }
                if (!_process.WaitForExit(3000)) Kill();
            }
            _process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
        foreach (var file in Directory.EnumerateFiles(PdRdma.Transport.HostRegion.DefaultDirectory, $"pdrdma.{pid}.*"))
        {
            try { File.Delete(file); } catch (IOException) { }
        }
    }
}
