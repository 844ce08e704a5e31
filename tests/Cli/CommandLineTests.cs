using PdRdma.Hosting.Processes;

namespace PdRdma.Tests.Cli;

/// <summary>
/// Walks every command of the shipped CLI and of the benchmarks (hidden ones included, as the programs list them with
/// --list-commands): each answers --help with its usage and every option, and each bad command line — a number
/// option given "x", an option missing its value, an unknown option — is one line on stderr naming the command, and
/// exit code 2, before anything runs.
/// </summary>
public sealed class CommandLineTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);

    private sealed record CliCommand(string[] Path, IReadOnlyList<(string Name, string Kind)> Options)
    {
        public override string ToString() => "pdrdma " + string.Join(' ', Path);
    }

    private static async Task<List<CliCommand>> AllCommandsAsync()
    {
        var commands = new List<CliCommand>();
        foreach (var prefix in new[] { Array.Empty<string>(), ["bench"] })
        {
            var (exit, stdout, stderr) = await PdrdmaProgram.Cli.RunAsync(Limit, [.. prefix, "--list-commands"]);
            Assert.True(exit == 0, stderr);
            foreach (var line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var (path, options) = (line.Split('\t')[0], line.Split('\t')[1]);
                var words = path.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (prefix.Length == 0 && words.Length == 0) continue; // the root has no action of its own
                commands.Add(new([.. prefix, .. words],
                    options.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(o => (o.Split(':')[0], o.Split(':')[1])).ToList()));
            }
        }
        return commands;
    }

    [Fact]
    public async Task EveryCommandIsListedAndTheInternalOnesAreHiddenFromHelp()
    {
        var commands = (await AllCommandsAsync()).Select(c => string.Join(' ', c.Path)).ToHashSet();
        foreach (var expected in new[] { "demo", "serve", "proxy", "daemon", "cluster", "generate", "verbs-peer target", "transfer-send", "bench", "bench transfer", "bench e2e", "bench serve", "bench target" })
            Assert.Contains(expected, commands);
        var (exit, help, _) = await PdrdmaProgram.Cli.RunAsync(Limit, "--help");
        Assert.Equal(0, exit);
        Assert.Contains("demo", help, StringComparison.Ordinal);
        foreach (var hidden in new[] { "verbs-peer", "transfer-send", "transfer-target", "gpu-ipc-peer", "demo-vm-node" })
            Assert.DoesNotContain(hidden, help, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryCommandAnswersHelpWithItsUsageAndEveryOption()
    {
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await ForEachAsync(await AllCommandsAsync(), async command =>
        {
            var (exit, stdout, stderr) = await PdrdmaProgram.Cli.RunAsync(Limit, [.. command.Path, "--help"]);
            if (exit != 0) failures.Enqueue($"{command} --help: exit {exit}, {stderr}");
            else if (!stdout.Contains("Usage:", StringComparison.Ordinal)) failures.Enqueue($"{command} --help: no usage in\n{stdout}");
            else foreach (var o in command.Options.Where(o => !stdout.Contains(o.Name, StringComparison.Ordinal))) failures.Enqueue($"{command} --help does not list {o.Name}");
        });
        Assert.True(failures.IsEmpty, string.Join('\n', failures));
    }

    [Fact]
    public async Task EveryBadCommandLineIsOneLineAndExitCodeTwo()
    {
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await ForEachAsync(await AllCommandsAsync(), async command =>
        {
            var cases = new List<string[]>();
            cases.Add([.. command.Path, "--no-such-option"]);
            if (command.Options.FirstOrDefault(o => o.Kind == "number").Name is { } number)
            {
                cases.Add([.. command.Path, number, "x"]);
                cases.Add([.. command.Path, number, "-1e999"]);
            }
            if (command.Options.FirstOrDefault(o => o.Kind != "flag").Name is { } valued) cases.Add([.. command.Path, valued]);
            foreach (var args in cases)
            {
                var (exit, stdout, stderr) = await PdrdmaProgram.Cli.RunAsync(Limit, args);
                var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
                var name = $"pdrdma {string.Join(' ', args)}";
                if (exit != 2) failures.Enqueue($"{name}: exit {exit} (not 2); stderr: {stderr}");
                else if (lines.Length != 1) failures.Enqueue($"{name}: {lines.Length} lines on stderr:\n{stderr}");
                else if (!lines[0].StartsWith("pdrdma " + string.Join(' ', command.Path), StringComparison.Ordinal)) failures.Enqueue($"{name}: the error does not name the command: {lines[0]}");
                else if (stdout.Length > 0) failures.Enqueue($"{name}: wrote to stdout: {stdout}");
            }
        });
        Assert.True(failures.IsEmpty, string.Join('\n', failures));
    }

    [Theory]
    [InlineData("no-such-command")]
    [InlineData("serve", "--role", "primary")]
    [InlineData("generate", "--steps", "x")]
    [InlineData("generate", "--model")]
    [InlineData("demo", "--backend", "carrier-pigeon")]
    [InlineData("engine-check", "--dtype", "f64")]
    [InlineData("engine-bench", "--dtype", "f16")]
    [InlineData("proxy", "--listen")]
    [InlineData("daemon", "--backend", "udp")]
    [InlineData("daemon", "--lease-ttl", "-3")]
    [InlineData("bench", "transfer", "--sizes", "1:x")]
    [InlineData("transfer-send", "--peer", "not-an-endpoint")]
    public async Task HostileValuesAreUsageErrors(params string[] args)
    {
        var (exit, stdout, stderr) = await PdrdmaProgram.Cli.RunAsync(Limit, args);
        Assert.True(exit == 2, $"exit {exit}; stdout: {stdout}; stderr: {stderr}");
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AResponseFileIsNotRead()
    {
        var secret = Path.Combine(Path.GetTempPath(), $"pdrdma-rsp-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(secret, "--help");
        try
        {
            var (exit, stdout, _) = await PdrdmaProgram.Cli.RunAsync(Limit, "serve", "@" + secret);
            Assert.Equal(2, exit);
            Assert.DoesNotContain("Usage:", stdout, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(secret);
        }
    }

    private static async Task ForEachAsync(IEnumerable<CliCommand> commands, Func<CliCommand, Task> check)
    {
        using var gate = new SemaphoreSlim(3);
        await Task.WhenAll(commands.Select(async command =>
        {
            await gate.WaitAsync();
            try
            {
                await check(command);
            }
            finally
            {
                gate.Release();
            }
        }));
    }
}
