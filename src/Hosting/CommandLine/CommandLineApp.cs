using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;

namespace PdRdma.Hosting.CommandLine;

/// <summary>
/// How the project's programs (<c>pdrdma</c>, <c>pdrdma-bench</c>, the device bundles) run a System.CommandLine tree,
/// so that they all answer alike: <c>--help</c> on every command; a usage error (an unknown option, a missing or
/// malformed value, a value a command rejects with <see cref="UsageException"/>) is one line on stderr naming the
/// command, and exit code 2; a <see cref="Transport.TransferException"/> is one line and exit code 1. No response
/// files (<c>@file</c>): a command line never makes a program read a file it did not ask for.
/// </summary>
public static class CommandLineApp
{
    /// <summary>Exit code of a usage error.</summary>
    public const int UsageExitCode = 2;

    /// <summary>Parses <paramref name="args"/> against <paramref name="root"/> and runs the chosen command's action.</summary>
    /// <param name="root">The program's commands.</param>
    /// <param name="args">The command line, without the program.</param>
    /// <param name="programName">Used in error lines, e.g. "pdrdma".</param>
    public static async Task<int> RunAsync(RootCommand root, string[] args, string programName)
    {
        if (args is [ListCommandsOption])
        {
            foreach (var line in Describe(root, [])) Console.Out.WriteLine(line);
            return 0;
        }
        var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        var path = CommandPath(parse, programName);
        if (parse.Errors.Count > 0)
        {
            await Console.Error.WriteLineAsync($"{path}: {parse.Errors[0].Message} (see {path} --help)").ConfigureAwait(false);
            return UsageExitCode;
        }
        if (parse.Action is HelpAction)
        {
            // internal commands are left out of their parent's list, yet answer --help about themselves
            for (var result = parse.CommandResult; result is not null; result = result.Parent as CommandResult) result.Command.Hidden = false;
        }
        try
        {
            // the commands own Ctrl-C and SIGTERM (each stops its own processes and files)
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null }).ConfigureAwait(false);
        }
        catch (UsageException e)
        {
            await Console.Error.WriteLineAsync($"{path}: {e.Message} (see {path} --help)").ConfigureAwait(false);
            return UsageExitCode;
        }
        catch (Transport.TransferException e)
        {
            await Console.Error.WriteLineAsync($"{path}: {e.Message}").ConfigureAwait(false);
            return 1;
        }
    }

    /// <summary>
    /// The hidden argument that lists every command, hidden ones included, one per line: its path (words after the
    /// program), a tab, and its options as NAME:KIND (KIND: number, flag, value), comma-separated. What the tests walk.
    /// </summary>
    public const string ListCommandsOption = "--list-commands";

    private static IEnumerable<string> Describe(Command command, List<string> path)
    {
        if (command.Action is not null)
        {
            var options = command.Options.Where(o => o is not HelpOption and not VersionOption && !o.Hidden).Select(o => $"{o.Name}:{Kind(o)}");
            yield return string.Join(' ', path) + "\t" + string.Join(',', options);
        }
        foreach (var sub in command.Subcommands)
        {
            foreach (var line in Describe(sub, [.. path, sub.Name])) yield return line;
        }
    }

    private static string Kind(Option option)
    {
        var type = Nullable.GetUnderlyingType(option.ValueType) ?? option.ValueType;
        if (type == typeof(bool)) return "flag";
        return type == typeof(int) || type == typeof(long) || type == typeof(double) || type == typeof(ulong) ? "number" : "value";
    }

    private static string CommandPath(ParseResult parse, string programName)
    {
        var names = new List<string>();
        for (var result = parse.CommandResult; result is not null; result = result.Parent as CommandResult)
        {
            if (result.Command is not RootCommand) names.Insert(0, result.Command.Name);
        }
        return string.Join(' ', [programName, .. names]);
    }
}
