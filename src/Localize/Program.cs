using System.CommandLine;
using R2D2.Localization.Cli;
using R2D2.Localization.Cli.Commands;

// `localize`: a thin command line over the R2D2.Localization library. Commands parse options,
// call the library and print; exit codes: 0 success, 1 failed input or run, 2 usage error.
return ProcessEnd.Exit(Cli.Run(args));

namespace R2D2.Localization.Cli
{
    public static class Cli
    {
        public static int Run(string[] args)
        {
            Allocator.UseJemalloc(args);
            var root = new RootCommand("R2D2.Localization: map daytime photos with known poses, localize night photos, with R2D2 features.");
            root.Subcommands.Add(DemoCommand.Create());
            root.Subcommands.Add(ExtractCommand.Create());
            root.Subcommands.Add(ModelCommands.Create());
            root.Subcommands.Add(VizCommands.Create());
            root.Subcommands.Add(EvalHomographyCommand.Create());
            root.Subcommands.Add(EvalRenderedCommand.Create());
            root.Subcommands.Add(EvalWxbsCommand.Create());
            root.Subcommands.Add(MakePairsCommand.Create());
            root.Subcommands.Add(MatchCommand.Create());
            root.Subcommands.Add(EvaluateCommand.Create());
            root.Subcommands.Add(BuildMapCommand.Create());
            root.Subcommands.Add(QueryCommand.Create());
            root.Subcommands.Add(MergeCommand.Create());
            root.Subcommands.Add(ConvertCommand.Create());
            root.Subcommands.Add(BuildRetrievalCommand.Create());
            root.Subcommands.Add(EvaluateRetrievalCommand.Create());
            root.Subcommands.Add(BenchRetrievalCommand.Create());
            root.Subcommands.Add(ReportCommand.Create());
            root.Subcommands.Add(StrechaLocCommand.Create());
            root.Subcommands.Add(TrainCommand.Create());
            root.Subcommands.Add(BenchPnpCommand.Create());
            root.Subcommands.Add(BenchMapCommand.Create());
            root.Subcommands.Add(BenchMatchCommand.Create());
            root.Subcommands.Add(BenchScaleCommand.Create());
            root.Subcommands.Add(BenchNetCommand.Create());
            RefuseEmptyValues(root);
            AliasOutputOptions(root);
            var parse = root.Parse(args);
            if (parse.Errors.Count > 0)
            {
                foreach (var e in parse.Errors) Console.Error.WriteLine($"error: {PlainTypeNames(e.Message)}");
                Console.Error.WriteLine("(run with --help for usage)");
                return 2;
            }
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }

        /// <summary>An empty string for a path or a name ("--out ''", a variable left unset in a script) is
        /// a usage error naming the option (it was .NET's "The value cannot be an empty string.
        /// (Parameter 'path')", exit 1, once the work had started).</summary>
        private static void RefuseEmptyValues(Command command)
        {
            static bool Text(Type t) => t == typeof(string) || t == typeof(string[]);
            static void Refuse(System.CommandLine.Parsing.SymbolResult r, string name)
            {
                if (r.Tokens.Any(t => string.IsNullOrWhiteSpace(t.Value))) r.AddError($"{name}: an empty value");
            }
            foreach (var o in command.Options.Where(o => Text(o.ValueType))) o.Validators.Add(r => Refuse(r, o.Name));
            foreach (var a in command.Arguments.Where(a => Text(a.ValueType))) a.Validators.Add(r => Refuse(r, a.Name));
            foreach (var c in command.Subcommands) RefuseEmptyValues(c);
        }

        /// <summary>Commands name their output --out or --output (query and report): each takes the
        /// other name too, where the command has no other option of that name.</summary>
        private static void AliasOutputOptions(Command command)
        {
            bool Taken(string name) => command.Options.Any(o => o.Name == name || o.Aliases.Contains(name));
            foreach (var (name, other) in new[] { ("--out", "--output"), ("--output", "--out") })
                if (command.Options.FirstOrDefault(o => o.Name == name) is { } option && !Taken(other)) option.Aliases.Add(other);
            foreach (var c in command.Subcommands) AliasOutputOptions(c);
        }

        /// <summary>The parser names an option's .NET type ("as expected type 'System.Nullable`1[System.Int32]'"):
        /// users read what the value should be.</summary>
        internal static string PlainTypeNames(string message) => System.Text.RegularExpressions.Regex.Replace(message,
            @"as expected type 'System\.(?:Nullable`1\[System\.)?(Int32|Int64|Double|Single|Boolean)\]?'", m => m.Groups[1].Value switch
            {
                "Int32" or "Int64" => "as an integer",
                "Double" or "Single" => "as a number",
                _ => "as true or false",
            });
    }
}
